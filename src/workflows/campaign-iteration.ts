import { proxyActivities } from '@temporalio/workflow';
import type { LabServiceActivities } from '../activities/lab-service-activities';
import type { Proposal } from '../domain/types';
import { releaseIncubatorSlotSignal } from '../temporal/messages';
import { runBatch } from './batch';
import { type CampaignContext, holdWhilePaused, waitFor } from './campaign-context';

/**
 * One iteration's way from a proposed batch to its plate's outcomes: a person's approval when the
 * config asks for one, an incubator slot, a person loading the plate when loading is manual, then
 * the batch itself. Every wait honours pause and stop; a batch that does not run leaves no trace
 * but a rejection (which the learner then treats as tried).
 */

/** True when the batch may run: approved (or no approval needed), and not stopped meanwhile. */
export async function approveBatch(context: CampaignContext, iteration: number, batch: Proposal[]): Promise<boolean> {
  const { state } = context;
  if (state.config.approval !== 'required') return true;
  state.pendingBatch = batch;
  state.decision = undefined;
  const wells = `${batch.length} wells proposed for iteration ${iteration}; approve or reject with a reason`;
  const decided = await waitFor(context, 'awaiting approval', wells, () => state.decision !== undefined);
  const decision = state.decision as CampaignContext['state']['decision']; // set by an update while we waited
  state.pendingBatch = undefined;
  state.decision = undefined;
  if (!decided || !decision) return false;
  await holdWhilePaused(context); // a pause during approval holds the approved batch until resume
  if (decision.approved) return true;
  // The rejected wells are never proposed again: the learner sees them as tried.
  state.snapshot.rejected.push({ iteration, proposals: batch.filter((p) => !p.isControl), reason: decision.reason });
  return false;
}

/**
 * Runs the batch on its own plate once the incubator lets the plate in. The slot is given back as
 * soon as the plate is read (while the wells' outcomes are still being collected), when a pause or
 * stop means the batch does not run, and in every other case on the way out. True when it ran.
 */
export async function runOnPlate(context: CampaignContext, iteration: number, batch: Proposal[]): Promise<boolean> {
  const { state, incubator, campaignId, labTaskQueue } = context;
  const plateId = state.plateIdFor(iteration);
  let released = false;
  const release = async () => {
    if (released) return;
    released = true;
    state.grantedPlate = undefined;
    await incubator
      .signal(releaseIncubatorSlotSignal, { plateId, holderWorkflowId: campaignId })
      .catch(() => undefined);
  };
  const { requestIncubatorSlot } = proxyActivities<LabServiceActivities>({
    startToCloseTimeout: '1 minute',
    retry: { initialInterval: '1 second', maximumInterval: '30 seconds' },
    summary: `incubator slot for plate ${plateId}`,
  });
  await requestIncubatorSlot({
    labTaskQueue,
    request: { holderWorkflowId: campaignId, plateId, priorityKey: state.snapshot.priorityKey },
  });
  try {
    const slot = `waiting for an incubator slot for plate ${plateId}`;
    if (!(await waitFor(context, 'running', slot, () => state.grantedPlate === plateId))) return false;
    if (state.halted) return false; // paused while waiting: give the slot back to other campaigns
    if (state.config.manualPlateLoading) {
      state.pendingAction = `load plate ${plateId} (${batch.length} wells) into the incubator`;
      state.actionConfirmed = false;
      const confirmed = await waitFor(
        context,
        'waiting for a person',
        state.pendingAction,
        () => state.actionConfirmed,
      );
      state.pendingAction = undefined;
      if (!confirmed) return false;
      await holdWhilePaused(context);
      if (state.snapshot.stopRequested) return false;
    }
    const batchContext = { state, labTaskQueue, iteration, plateId, searchableNames: context.searchableNames };
    await runBatch(batchContext, batch, release);
    return true;
  } finally {
    await release(); // also withdraws a request that was never granted
  }
}
