import {
  allHandlersFinished,
  condition,
  continueAsNew,
  getExternalWorkflowHandle,
  isCancellation,
  proxyActivities,
  setCurrentDetails,
  setHandler,
  TemporalFailure,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import type { CampaignOutputActivities } from '../activities/campaign-output-activities';
import type { InventoryActivities } from '../activities/inventory-activities';
import type { LabServiceActivities } from '../activities/lab-service-activities';
import type { LearnerActivities } from '../activities/learner-activities';
import type { CampaignConfig } from '../config/campaign-config';
import type { CampaignResults, CampaignState } from '../domain/campaign-status';
import { campaignDetailsMarkdown } from '../domain/campaign-status';
import type { NotificationKind } from '../notifications/webhooks';
import * as messages from '../temporal/messages';
import { CAMPAIGN_STATUS } from '../temporal/search-attributes';
import { incubatorWorkflowId, inventoryTaskQueue } from '../temporal/task-queues';
import { runBatch, withReplicates } from './batch';
import { CampaignStateModel, type CampaignSnapshot } from './campaign-state';

/**
 * A campaign: propose → execute → learn until the question is answered, the budget is spent,
 * the iterations run out or a person stops it.
 *
 * This file is wiring: handlers call the state model's commands (campaign-state.ts), a batch runs
 * as child experiments on one plate (batch.ts), learning is an activity. A batch's plate holds an
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
}

/** Report and notifications: what a campaign leaves for the people around it. */
function campaignOutputs(config: CampaignConfig, on: boolean) {
  const options = {
    startToCloseTimeout: '2 minutes',
    retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumAttempts: 6 },
  } as const;
  const pending: Promise<unknown>[] = [];
  let sequence = 0;
  return {
    on,
    /** Sent in the background (a slow receiver never holds the lab up); `flush` waits for them. */
    notify(kind: NotificationKind, headline: string, detail: string, state: string, reportPath?: string): void {
      if (!on) return;
      sequence += 1;
      const { workflowId, runId } = workflowInfo();
      const { sendNotification } = proxyActivities<CampaignOutputActivities>({
        ...options,
        summary: `notify: ${kind}`,
      });
      const sent = sendNotification({
        notification: {
          kind,
          campaignId: workflowId,
          headline,
          detail,
          state,
          at: new Date().toISOString(),
          ...(reportPath ? { reportPath } : {}),
        },
        idempotencyKey: `${workflowId}/${runId}/${sequence}/${kind}`,
        webhooks: config.notifications?.webhooks ?? [],
      });
      pending.push(sent.catch(() => undefined)); // a notification that cannot be sent never fails the campaign
    },
    async writeReport(results: CampaignResults): Promise<string | undefined> {
      if (!on) return undefined;
      const { writeCampaignReport } = proxyActivities<CampaignOutputActivities>({
        ...options,
        retry: { ...options.retry, maximumAttempts: 3 },
        summary: 'write the campaign report',
      });
      return (await writeCampaignReport({ results }).catch(() => undefined))?.path;
    },
    flush: () => Promise.all(pending),
  };
}

export async function campaignWorkflow(input: CampaignInput): Promise<CampaignResults> {
  const outputs = campaignOutputs(input.config, input.outputs === true);
  try {
    return await runCampaign(input, outputs);
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
  outputs: ReturnType<typeof campaignOutputs>,
): Promise<CampaignResults> {
  const { workflowId: campaignId, firstExecutionRunId } = workflowInfo();
  const { config } = input;
  const state = input.snapshot
    ? new CampaignStateModel(campaignId, config, input.snapshot)
    : CampaignStateModel.fresh(campaignId, config, `${config.name}-${firstExecutionRunId}`);
  const incubator = getExternalWorkflowHandle(incubatorWorkflowId(input.labTaskQueue));
  // Each call names itself in the Web UI (activity summaries).
  const learner = (summary: string) =>
    proxyActivities<LearnerActivities>({
      // A batch takes seconds (64 pairs: ~2 s); the learner cannot heartbeat mid-computation, so a
      // short limit is what lets a batch move on quickly when its worker is killed while learning.
      startToCloseTimeout: '1 minute',
      retry: { initialInterval: '1 second', maximumAttempts: 5 },
      summary,
    });
  const labService = (summary: string) =>
    proxyActivities<LabServiceActivities>({
      startToCloseTimeout: '1 minute',
      retry: { initialInterval: '1 second', maximumInterval: '30 seconds' },
      summary,
    });
  // No lab worker up yet: the campaign waits for one (retries without limit) rather than failing.
  const { describeLab } = proxyActivities<InventoryActivities>({
    taskQueue: inventoryTaskQueue(input.labTaskQueue),
    startToCloseTimeout: '30 seconds',
    retry: { initialInterval: '1 second', maximumInterval: '30 seconds' },
    summary: 'ask the lab for its catalogue (prices)',
  });

  setHandler(messages.pauseSignal, (request) => state.pause(request?.reason));
  setHandler(messages.resumeSignal, () => state.resume());
  setHandler(messages.stopSignal, async (request) => {
    state.stop(request?.reason);
    // A plate waiting for stock or an instrument ends that wait; wells already incubating finish.
    if (state.activePlateWorkflowId)
      await getExternalWorkflowHandle(state.activePlateWorkflowId)
        .signal(messages.plateStopSignal, request)
        .catch(() => undefined);
  });
  setHandler(messages.instrumentWaitSignal, (wait) => state.noteWaiting(wait));
  setHandler(messages.incubatorSlotGrantedSignal, ({ plateId }) => void (state.grantedPlate = plateId));
  setHandler(messages.setBudgetUpdate, ({ budgetUsd }) => state.setBudget(budgetUsd), {
    validator: (request) => refuse(state.budgetProblem(request?.budgetUsd)),
  });
  setHandler(
    messages.setPriorityUpdate,
    async ({ priorityKey }) => {
      const result = state.setPriority(priorityKey);
      // Operations not yet scheduled (the running plate's next steps, the incubator queue) use the new priority.
      const plate = state.activePlateWorkflowId;
      const tell = plate
        ? [getExternalWorkflowHandle(plate).signal(messages.experimentPrioritySignal, { priorityKey })]
        : [];
      tell.push(incubator.signal(messages.incubatorPrioritySignal, { holderWorkflowId: campaignId, priorityKey }));
      await Promise.all(tell.map((p) => p.catch(() => undefined)));
      return result;
    },
    { validator: (request) => state.validatePriority(request?.priorityKey) },
  );
  setHandler(messages.approveBatchUpdate, (_request) => state.approve(), {
    validator: (_request) => state.validateDecision(),
  });
  setHandler(messages.rejectBatchUpdate, ({ reason }) => state.reject(reason), {
    validator: (request) => state.validateRejection(request?.reason),
  });
  setHandler(messages.confirmActionUpdate, (_request) => state.confirm(), {
    validator: (_request) => state.validateConfirmation(),
  });
  setHandler(messages.statusQuery, () => state.status());
  setHandler(messages.resultsQuery, () => ({ status: state.status(), outcomes: state.snapshot.outcomes }));

  // The live summary in the Web UI follows the state: redrawn whenever something a person sees changes.
  const seen = () =>
    JSON.stringify([
      state.lifecycle,
      state.detail,
      state.snapshot.outcomes.length,
      state.running.size,
      state.waitingFor.size,
      state.estimatesAtIteration,
      state.snapshot.proposalRounds,
      state.pendingBatch?.length,
      state.pendingAction,
      state.snapshot.paused,
      state.snapshot.budgetUsd,
      state.reportPath,
    ]);
  void (async () => {
    for (let last = ''; ; last = seen()) {
      await condition(() => seen() !== last);
      setCurrentDetails(campaignDetailsMarkdown(state.status()));
    }
  })();
  // Wells waiting on stock or an offline instrument for longer than the set time: tell the webhooks once per wait.
  const waitAlertMs = (config.notifications?.waitAlertMinutes ?? 30) * 60_000;
  if (outputs.on)
    void (async () => {
      for (;;) {
        await condition(() => state.waitingFor.size > 0);
        const what = () =>
          state
            .waitingInstruments()
            .map((w) => `${w.kind} ${w.instrument}`)
            .join(', ');
        const summary = `alert if still waiting for ${what()} after ${waitAlertMs / 60_000} min`;
        if (!(await condition(() => state.waitingFor.size === 0, waitAlertMs, { summary }))) {
          const waits = state.waitingInstruments();
          outputs.notify(
            'waiting-too-long',
            `${campaignId} has waited ${waitAlertMs / 60_000} min for ${what()}`,
            waits
              .map((w) =>
                w.kind === 'stock'
                  ? `${w.experiments} well(s) wait for stock: ${w.instrument}; restock with cellos restock`
                  : `${w.experiments} well(s) wait for the ${w.instrument}, which is offline`,
              )
              .join('; '),
            state.lifecycle,
          );
          await condition(() => state.waitingFor.size === 0);
        }
      }
    })();

  const setLifecycle = (lifecycle: CampaignState, detail: string): void => {
    if (state.lifecycle !== lifecycle) upsertSearchAttributes([{ key: CAMPAIGN_STATUS, value: lifecycle }]);
    state.lifecycle = lifecycle;
    state.detail = detail;
  };

  /**
   * The one wait for a person or a slot: in `lifecycle` until `done` or a stop. True when `done`
   * came; the caller then honours a pause that arrived meanwhile (holds, or gives the slot back).
   */
  const waitFor = async (lifecycle: CampaignState, detail: string, done: () => boolean): Promise<boolean> => {
    setLifecycle(lifecycle, detail);
    if (lifecycle !== 'running') outputs.notify('needs-person', `${campaignId} is ${lifecycle}`, detail, lifecycle);
    await condition(() => done() || state.snapshot.stopRequested);
    setLifecycle('running', '');
    return !state.snapshot.stopRequested;
  };
  const holdWhilePaused = async () => {
    if (!state.snapshot.paused || state.snapshot.stopRequested) return;
    setLifecycle('paused', state.snapshot.pauseReason);
    await condition(() => !state.snapshot.paused || state.snapshot.stopRequested);
    setLifecycle('running', '');
  };

  /** Ask the learner for the next batch (or, with no room, only for fresh estimates). */
  const learn = async (iteration: number, maxTreatments: number) => {
    state.snapshot.proposalRounds += 1;
    const round = state.snapshot.rejected.filter((r) => r.iteration === iteration).length;
    const { proposeBatch } = learner(
      maxTreatments > 0 ? `learn: propose batch ${iteration}` : 'learn: final estimates',
    );
    const proposed = await proposeBatch({
      proposer: config.proposer,
      settings: state.learnerSettings(),
      observations: state.observations(),
      controlObservations: state.controlObservations(),
      triedDoses: state.triedDoses(),
      iteration,
      maxTreatments,
      idPrefix: `i${String(iteration).padStart(3, '0')}${round > 0 ? `r${round}` : ''}`,
    });
    state.snapshot.estimates = proposed.estimates;
    state.estimatesAtIteration = state.snapshot.iteration;
    return proposed;
  };

  const finish = async (lifecycle: CampaignState, detail: string): Promise<CampaignResults> => {
    // The final answer includes the last batch: re-estimate if results arrived since the learner last ran.
    if (state.estimatesAtIteration !== state.snapshot.iteration) await learn(state.snapshot.iteration + 1, 0);
    // The ending names every pair's state; "goal reached" only when every pair is answered.
    const ending = state.ending(lifecycle, detail);
    setLifecycle(ending.lifecycle, ending.detail);
    // The report is written from the final results; a report that cannot be written never fails the campaign.
    state.reportPath = await outputs.writeReport({ status: state.status(), outcomes: state.snapshot.outcomes });
    outputs.notify(
      'ended',
      `${campaignId} ended: ${ending.lifecycle}`,
      ending.detail,
      ending.lifecycle,
      state.reportPath,
    );
    await outputs.flush();
    await condition(allHandlersFinished);
    return { status: state.status(), outcomes: state.snapshot.outcomes };
  };

  setLifecycle(state.snapshot.paused ? 'paused' : 'running', state.snapshot.pauseReason);
  if (!state.snapshot.pricing) state.learnLab(await describeLab());

  for (;;) {
    await holdWhilePaused();
    if (state.snapshot.stopRequested) return finish('stopped', state.snapshot.stopReason);
    if (state.snapshot.iteration >= config.maxIterations)
      return finish('completed', `all ${config.maxIterations} iterations ran`);

    const iteration = state.snapshot.iteration + 1;
    const proposed = await learn(iteration, config.batchSize);
    if (proposed.finished) return finish('goal reached', proposed.finished.detail);
    if (proposed.proposals.every((p) => p.isControl))
      return finish('completed', 'the proposer has no untried doses left in the range');
    const batch = state.fitToBudget(withReplicates(proposed.proposals, config.replicates));
    if (!batch) {
      const { spentUsd } = state.status();
      return finish(
        'budget exhausted',
        `$${spentUsd.toFixed(2)} of $${state.snapshot.budgetUsd.toFixed(2)} spent; the next experiment does not fit`,
      );
    }
    // A pause or stop that arrived while the learner was thinking takes effect before any well starts.
    if (state.halted) continue;

    if (config.approval === 'required') {
      state.pendingBatch = batch;
      state.decision = undefined;
      const wells = `${batch.length} wells proposed for iteration ${iteration}; approve or reject with a reason`;
      const decided = await waitFor('awaiting approval', wells, () => state.decision !== undefined);
      const decision = state.decision as CampaignStateModel['decision']; // set by an update while we waited
      state.pendingBatch = undefined;
      state.decision = undefined;
      if (!decided || !decision) continue;
      await holdWhilePaused(); // a pause during approval holds the approved batch until resume
      if (!decision.approved) {
        // The rejected wells are never proposed again: the learner sees them as tried.
        state.snapshot.rejected.push({
          iteration,
          proposals: batch.filter((p) => !p.isControl),
          reason: decision.reason,
        });
        continue;
      }
    }

    const plateId = `${state.snapshot.platePrefix}-p${String(iteration).padStart(3, '0')}`;
    let released = false;
    const release = async () => {
      if (released) return;
      released = true;
      state.grantedPlate = undefined;
      await incubator
        .signal(messages.releaseIncubatorSlotSignal, { plateId, holderWorkflowId: campaignId })
        .catch(() => undefined);
    };
    const { requestIncubatorSlot } = labService(`incubator slot for plate ${plateId}`);
    await requestIncubatorSlot({
      labTaskQueue: input.labTaskQueue,
      request: { holderWorkflowId: campaignId, plateId, priorityKey: state.snapshot.priorityKey },
    });
    try {
      const slot = `waiting for an incubator slot for plate ${plateId}`;
      if (!(await waitFor('running', slot, () => state.grantedPlate === plateId))) continue;
      if (state.halted) continue; // paused while waiting: give the slot back to other campaigns
      if (config.manualPlateLoading) {
        state.pendingAction = `load plate ${plateId} (${batch.length} wells) into the incubator`;
        state.actionConfirmed = false;
        const confirmed = await waitFor('waiting for a person', state.pendingAction, () => state.actionConfirmed);
        state.pendingAction = undefined;
        if (!confirmed) continue;
        await holdWhilePaused();
        if (state.snapshot.stopRequested) continue;
      }
      const context = { state, labTaskQueue: input.labTaskQueue, iteration, plateId };
      // The slot is free once the plate is read, while the wells' outcomes are still being collected.
      await runBatch({ ...context, searchableNames: input.searchableNames !== false }, batch, release);
    } finally {
      await release(); // also withdraws a request that was never granted
    }
    state.normaliseIteration(iteration);
    state.snapshot.iteration = iteration;
    const alarm = state.failureAlarm();
    if (alarm) {
      state.pause(alarm);
      outputs.notify('paused-itself', `${campaignId} paused itself`, alarm, 'paused');
    }

    if (workflowInfo().continueAsNewSuggested) {
      await condition(allHandlersFinished);
      state.snapshot.runs += 1;
      return continueAsNew<typeof campaignWorkflow>({ ...input, snapshot: state.snapshot });
    }
  }
}

function refuse(problem: string | undefined): void {
  if (problem) throw new Error(problem);
}
