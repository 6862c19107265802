import {
  allHandlersFinished,
  condition,
  continueAsNew,
  getExternalWorkflowHandle,
  proxyActivities,
  setHandler,
  workflowInfo,
} from '@temporalio/workflow';
import type { LabServiceActivities } from '../activities/lab-service-activities';
import {
  incubatorPrioritySignal,
  incubatorSlotGrantedSignal,
  incubatorStatusQuery,
  releaseIncubatorSlotSignal,
  requestIncubatorSlotSignal,
} from '../temporal/messages';
import { emptyIncubator, enqueue, grant, release, reprioritise, type IncubatorSnapshot } from './incubator-state';

/**
 * The incubator's plate slots, as one long-lived workflow per lab.
 *
 * A plate holds its slot for the whole incubation — hours to days of workflow timers — so the
 * reservation cannot live in an activity or a worker process: it lives here, in durable history.
 * Campaigns ask with a signal (started on demand with signal-with-start by an activity), are told
 * by a signal when their plate may go in, and release with a signal. A holder that ends without
 * releasing (terminated, say) is found by a periodic check of its workflow status and freed, so
 * no reservation leaks. Continues as new when Temporal suggests it.
 */
export interface IncubatorInput {
  capacityPlates: number;
  /** How often held slots are checked for holders that ended without releasing (default 60 s). */
  reapIntervalMs?: number;
  snapshot?: IncubatorSnapshot;
}

export async function incubatorWorkflow(input: IncubatorInput): Promise<void> {
  const state = input.snapshot ?? emptyIncubator(input.capacityPlates);
  state.log ??= [];
  state.capacityPlates = input.capacityPlates;
  const { findEndedWorkflows } = proxyActivities<LabServiceActivities>({
    startToCloseTimeout: '1 minute',
    retry: { maximumAttempts: 3 },
  });
  let changed = true;
  const reapIntervalMs = input.reapIntervalMs ?? 60_000;
  let nextReapAt = Date.now() + reapIntervalMs;
  setHandler(requestIncubatorSlotSignal, (request) => {
    enqueue(state, request);
    changed = true;
  });
  setHandler(releaseIncubatorSlotSignal, (which) => {
    if (release(state, which, Date.now())) changed = true;
  });
  setHandler(incubatorPrioritySignal, ({ holderWorkflowId, priorityKey }) => {
    reprioritise(state, holderWorkflowId, priorityKey);
    changed = true;
  });
  setHandler(incubatorStatusQuery, () => state);

  for (;;) {
    if (changed) {
      changed = false;
      for (const holder of grant(state, Date.now())) {
        try {
          await getExternalWorkflowHandle(holder.holderWorkflowId).signal(incubatorSlotGrantedSignal, {
            plateId: holder.plateId,
          });
        } catch {
          release(state, holder, Date.now()); // the campaign is gone: its slot goes to the next in line
          changed = true;
        }
      }
    }
    // The reaper runs on its own schedule, not after a quiet spell: steady signal traffic never starves it.
    await condition(() => changed, Math.max(1, nextReapAt - Date.now()));
    if (Date.now() >= nextReapAt) {
      nextReapAt = Date.now() + reapIntervalMs;
      if (state.holders.length > 0) {
        const ended = await findEndedWorkflows({
          workflowIds: [...new Set(state.holders.map((h) => h.holderWorkflowId))],
        });
        for (const holder of state.holders.filter((h) => ended.includes(h.holderWorkflowId))) {
          release(state, holder, Date.now());
          changed = true;
        }
      }
    }
    if (workflowInfo().continueAsNewSuggested && !changed) {
      await condition(allHandlersFinished);
      await continueAsNew<typeof incubatorWorkflow>({ ...input, snapshot: state });
    }
  }
}
