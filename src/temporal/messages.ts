import { defineQuery, defineSignal, defineUpdate } from '@temporalio/workflow';
import type { CampaignResults, CampaignStatus } from '../domain/campaign-status';
import type { IncubatorSnapshot, SlotRequest } from '../workflows/incubator-state';
import type { InventoryReport, RestockRequest } from '../inventory/requests';
import type { LabCatalogue } from '../domain/lab-catalogue';
import type { RestockRecord } from '../inventory/inventory-store';
import type { QueuedRestock } from '../workflows/stockroom-state';

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
/** Sent by a plate to its campaign when it starts or stops waiting for an offline instrument or stock. */
export const instrumentWaitSignal = defineSignal<[InstrumentWait]>('instrumentWait');
/** Sent by a campaign to its running plate when its priority changes (the plate's next steps use it). */
export const experimentPrioritySignal = defineSignal<[{ priorityKey: number }]>('experimentPriority');
/** Sent by a plate to each of its experiments as each plate step ends: that well's outcome. */
export const wellStepSignal = defineSignal<[WellStepReport]>('wellStep');
/** Sent by a campaign to an experiment whose plate ended without reporting the step it waits for. */
export const plateEndedSignal = defineSignal<[{ plateWorkflowId: string; reason: string }]>('plateEnded');
/** Sent by a campaign to its running plate when a person stops it: steps still waiting for stock or an instrument are not run. */
export const plateStopSignal = defineSignal<[StopRequest?]>('plateStop');

export type WellStep = 'seed' | 'dose' | 'measure';
export interface WellStepReport {
  step: WellStep;
  /** The plate step's operation key, e.g. "<plate id>/seed". */
  plateStepKey: string;
  outcome: { ok: true; value: unknown } | { ok: false; failure: { type: string; message: string } };
}
export const statusQuery = defineQuery<CampaignStatus>('status');
/** One page of a campaign's outcomes (all of them without a limit), with the status and the total. */
export interface ResultsPageRequest {
  offset?: number;
  limit?: number;
}
export const resultsQuery = defineQuery<CampaignResults, [ResultsPageRequest?]>('results');

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
  /** The instrument, or for kind "stock" the missing item(s). */
  instrument: string;
  kind?: 'instrument' | 'stock';
  waiting: boolean;
  /** Wells held up (a plate's wells still to run); absent: 1 (one experiment, in old histories). */
  wells?: number;
}

// Person in the loop. Updates, not signals: the person must hear whether it was accepted and why not.
export const approveBatchUpdate = defineUpdate<{ approvedWells: number }, [ApproveRequest]>('approveBatch');
export const rejectBatchUpdate = defineUpdate<{ rejectedWells: number }, [RejectRequest]>('rejectBatch');
export const confirmActionUpdate = defineUpdate<{ confirmed: string }, [ConfirmRequest]>('confirmAction');
export const setPriorityUpdate = defineUpdate<
  { previousPriorityKey: number; priorityKey: number },
  [SetPriorityRequest]
>('setPriority');

export interface ApproveRequest {
  by?: string;
}
export interface RejectRequest {
  reason: string;
}
export interface ConfirmRequest {
  by?: string;
}
export interface SetPriorityRequest {
  /** 1 (highest) .. 5 (lowest), Temporal's priority keys. */
  priorityKey: number;
}

// The incubator's plate slots (incubator.ts).
export const requestIncubatorSlotSignal = defineSignal<[SlotRequest]>('requestIncubatorSlot');
/** Release (or withdraw) a slot: by holder and plate together (`holderWorkflowId` absent only in old histories). */
export const releaseIncubatorSlotSignal =
  defineSignal<[{ plateId: string; holderWorkflowId?: string }]>('releaseIncubatorSlot');
export const incubatorPrioritySignal =
  defineSignal<[{ holderWorkflowId: string; priorityKey: number }]>('incubatorPriority');
export const incubatorSlotGrantedSignal = defineSignal<[{ plateId: string }]>('incubatorSlotGranted');
export const incubatorStatusQuery = defineQuery<IncubatorSnapshot>('incubatorStatus');

// The lab's stockroom (stockroom.ts): one long-lived workflow per lab, reached by update-with-start.
// Updates, not signals: the caller learns the outcome (the restock record, the report, or why it
// was refused), a validator refuses a duplicate before anything is written, and the update id (the
// call's idempotency key) makes a retried call join the first instead of running again.
export interface RestockCall {
  /** The request; its requestId is the call's idempotency key. */
  request: RestockRequest & { requestId: string };
  /** The CLI made the key up: refuse this restock while another of the same item is queued. */
  keyless?: boolean;
}
export interface StockroomReportCall {
  campaignId?: string;
  /** Epoch ms after which the caller no longer waits: the request is withdrawn, nothing runs. */
  notAfterMs: number;
}
export const restockUpdate = defineUpdate<RestockRecord, [RestockCall]>('restock');
export const inventoryReportUpdate = defineUpdate<InventoryReport, [StockroomReportCall]>('inventoryReport');
export const labCatalogueUpdate = defineUpdate<LabCatalogue, [{ notAfterMs: number }]>('labCatalogue');
export const stockroomQueuedQuery = defineQuery<QueuedRestock[]>('stockroomQueued');
