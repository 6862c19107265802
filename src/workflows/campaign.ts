import {
  allHandlersFinished,
  condition,
  continueAsNew,
  getExternalWorkflowHandle,
  isCancellation,
  TemporalFailure,
  workflowInfo,
} from '@temporalio/workflow';
import type { CampaignConfig } from '../config/campaign-config';
import type { CampaignResults, CampaignState } from '../domain/campaign-status';
import { incubatorWorkflowId } from '../temporal/task-queues';
import { withReplicates } from './batch';
import { type CampaignContext, holdWhilePaused, setLifecycle } from './campaign-context';
import { alertOnLongWaits, followInWebUi, installHandlers } from './campaign-handlers';
import { approveBatch, runOnPlate } from './campaign-iteration';
import { finishCampaign } from './campaign-ending';
import { askTheLab, learn } from './campaign-learning';
import { campaignOutputs, type CampaignOutputs } from './campaign-outputs';
import { CampaignStateModel, type CampaignSnapshot } from './campaign-state';
import type { OutcomePage } from './outcome-pages';

/**
 * A campaign: propose → execute → learn until the question is answered, the budget is spent,
 * the iterations run out or a person stops it.
 *
 * This file is wiring: handlers call the state model's commands (campaign-handlers.ts,
 * campaign-state.ts), an iteration's approval, slot and plate run in campaign-iteration.ts, a
 * batch runs as child experiments on one plate (batch.ts), learning is an activity
 * (campaign-learning.ts) and the ending its own step (campaign-ending.ts). A batch's plate holds an
 * incubator slot for the whole batch (incubator.ts); a person may have to approve each batch or
 * confirm loading the plate, and every such wait honours pause and stop. The campaign's input is
 * what a scientist wrote; the lab's world stays with the lab worker, which the campaign asks once
 * for its catalogue (prices). It continues-as-new between batches when Temporal suggests it.
 */
export interface CampaignInput {
  config: CampaignConfig;
  labTaskQueue: string;
  /** false keeps cell-line and compound names out of the experiments' search attributes (payload encryption on). */
  searchableNames?: boolean;
  /** Present only when continuing as new. */
  snapshot?: CampaignSnapshot;
  /**
   * Write the report at the end, send webhook notifications and keep the wait alert. Set by every
   * client start (campaignStartOptions); absent in campaigns started before these existed, whose
   * recorded histories therefore replay unchanged. An input flag rather than `patched()`: a patch
   * marker is stored in clear, outside the payload codec.
   */
  outputs?: boolean;
  /**
   * The learner and the report run as local activities (see CampaignContext). An input flag for the
   * same reason as `outputs`: histories recorded before it replay their remote activities unchanged.
   */
  localActivities?: boolean;
}

/**
 * `outcomePages`: the outcomes so far, handed over by the previous run in compact pages (each its
 * own payload, outcome-pages.ts), rather than inside the snapshot.
 */
export async function campaignWorkflow(input: CampaignInput, ...outcomePages: OutcomePage[]): Promise<CampaignResults> {
  const outputs = campaignOutputs(input.config, input.outputs === true);
  try {
    return await runCampaign(input, outcomePages, outputs);
  } catch (err) {
    // Only a TemporalFailure fails the workflow (anything else retries the workflow task).
    if (err instanceof TemporalFailure && !isCancellation(err)) {
      outputs.notify('failed', `${workflowInfo().workflowId} failed`, err.message, 'failed');
      await outputs.flush();
    }
    throw err;
  }
}

async function runCampaign(
  input: CampaignInput,
  outcomePages: OutcomePage[],
  outputs: CampaignOutputs,
): Promise<CampaignResults> {
  const { workflowId: campaignId, firstExecutionRunId } = workflowInfo();
  const { config } = input;
  const state = input.snapshot
    ? CampaignStateModel.handedOver(campaignId, config, input.snapshot, outcomePages)
    : CampaignStateModel.fresh(campaignId, config, `${config.name}-${firstExecutionRunId}`);
  const context: CampaignContext = {
    campaignId,
    labTaskQueue: input.labTaskQueue,
    searchableNames: input.searchableNames !== false,
    state,
    localActivities: input.localActivities === true,
    outputs,
    incubator: getExternalWorkflowHandle(incubatorWorkflowId(input.labTaskQueue)),
  };
  installHandlers(context);
  followInWebUi(context);
  alertOnLongWaits(context, config.notifications?.waitAlertMinutes ?? 30);

  const finish = (lifecycle: CampaignState, detail: string) => finishCampaign(context, lifecycle, detail);

  setLifecycle(context, state.snapshot.paused ? 'paused' : 'running', state.snapshot.pauseReason);
  if (!state.snapshot.pricing) state.learnLab(await askTheLab(context));

  for (;;) {
    await holdWhilePaused(context);
    if (state.snapshot.stopRequested) return finish('stopped', state.snapshot.stopReason);
    if (state.snapshot.iteration >= config.maxIterations)
      return finish('completed', `all ${config.maxIterations} iterations ran`);

    const iteration = state.snapshot.iteration + 1;
    const proposed = await learn(context, iteration, config.batchSize);
    if (proposed.finished) return finish('goal reached', proposed.finished.detail);
    if (proposed.proposals.every((p) => p.isControl))
      return finish('completed', 'the proposer has no untried doses left in the range');
    const batch = state.fitToBudget(withReplicates(proposed.proposals, config.replicates));
    if (!batch) return finish('budget exhausted', state.budgetExhaustedDetail());
    // A pause or stop that arrived while the learner was thinking takes effect before any well starts.
    if (state.halted) continue;
    if (!(await approveBatch(context, iteration, batch))) continue;
    if (!(await runOnPlate(context, iteration, batch))) continue;

    state.endIteration(iteration);
    const alarm = state.failureAlarm();
    if (alarm) {
      state.pause(alarm);
      outputs.notify('paused-itself', `${campaignId} paused itself`, alarm, 'paused');
    }
    if (workflowInfo().continueAsNewSuggested) {
      await condition(allHandlersFinished);
      state.snapshot.runs += 1;
      const { snapshot, pages } = state.handOver();
      return continueAsNew<typeof campaignWorkflow>({ ...input, snapshot }, ...pages);
    }
  }
}
