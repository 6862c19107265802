import { defineQuery, defineSignal, defineUpdate } from '@temporalio/workflow';
import type { CampaignResults, CampaignStatus } from '../domain/campaign-status';

/**
 * Every message a campaign understands, defined once for workflow, client and tests.
 *
 * pause/resume/stop are signals: fire-and-forget, idempotent, and a repeated one is a no-op.
 * setBudget is an update because the caller must learn whether it was accepted and why not
 * (a budget below what is already spent is refused by the validator before anything changes).
 */
export const pauseSignal = defineSignal<[PauseRequest?]>('pause');
export const resumeSignal = defineSignal<[]>('resume');
export const stopSignal = defineSignal<[StopRequest?]>('stop');
export const setBudgetUpdate = defineUpdate<SetBudgetResult, [SetBudgetRequest]>('setBudget');
/** Sent by an experiment to its campaign when it starts or stops waiting for an offline instrument. */
export const instrumentWaitSignal = defineSignal<[InstrumentWait]>('instrumentWait');
export const statusQuery = defineQuery<CampaignStatus>('status');
export const resultsQuery = defineQuery<CampaignResults>('results');

export interface PauseRequest {
  reason?: string;
}
export interface StopRequest {
  reason?: string;
}
export interface SetBudgetRequest {
  budgetUsd: number;
}
export interface SetBudgetResult {
  previousBudgetUsd: number;
  budgetUsd: number;
  spentUsd: number;
}
export interface InstrumentWait {
  experimentWorkflowId: string;
  instrument: string;
  waiting: boolean;
}
