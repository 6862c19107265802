import { condition, type ExternalWorkflowHandle, upsertSearchAttributes } from '@temporalio/workflow';
import type { CampaignState } from '../domain/campaign-status';
import { CAMPAIGN_STATUS } from '../temporal/search-attributes';
import type { CampaignOutputs } from './campaign-outputs';
import type { CampaignStateModel } from './campaign-state';

/**
 * What every part of one campaign run shares: its state, its outputs (report, notifications), the
 * lab's queue and incubator, and the one way the campaign waits. The workflow file builds it once.
 */
export interface CampaignContext {
  campaignId: string;
  labTaskQueue: string;
  /** false keeps line and compound names out of search attributes (payload encryption on). */
  searchableNames: boolean;
  state: CampaignStateModel;
  /**
   * The learner and the report run as local activities: they read the campaign's state in the
   * worker that holds it, so their inputs, which grow with every well, never enter history.
   */
  localActivities: boolean;
  outputs: CampaignOutputs;
  incubator: ExternalWorkflowHandle;
}

/** The lifecycle a person sees (status, Web UI search attribute) and why. */
export function setLifecycle({ state }: CampaignContext, lifecycle: CampaignState, detail: string): void {
  if (state.lifecycle !== lifecycle) upsertSearchAttributes([{ key: CAMPAIGN_STATUS, value: lifecycle }]);
  state.lifecycle = lifecycle;
  state.detail = detail;
}

/**
 * The one wait for a person or a slot: in `lifecycle` until `done` or a stop. True when `done`
 * came; the caller then honours a pause that arrived meanwhile (holds, or gives the slot back).
 */
export async function waitFor(
  context: CampaignContext,
  lifecycle: CampaignState,
  detail: string,
  done: () => boolean,
): Promise<boolean> {
  const { state, outputs, campaignId } = context;
  setLifecycle(context, lifecycle, detail);
  if (lifecycle !== 'running') outputs.notify('needs-person', `${campaignId} is ${lifecycle}`, detail, lifecycle);
  await condition(() => done() || state.snapshot.stopRequested);
  setLifecycle(context, 'running', '');
  return !state.snapshot.stopRequested;
}

/** A pause holds here until a person resumes or stops the campaign. */
export async function holdWhilePaused(context: CampaignContext): Promise<void> {
  const { snapshot } = context.state;
  if (!snapshot.paused || snapshot.stopRequested) return;
  setLifecycle(context, 'paused', snapshot.pauseReason);
  await condition(() => !snapshot.paused || snapshot.stopRequested);
  setLifecycle(context, 'running', '');
}
