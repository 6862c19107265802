import {
  ApplicationFailure,
  ChildWorkflowFailure,
  allHandlersFinished,
  condition,
  continueAsNew,
  executeChild,
  getExternalWorkflowHandle,
  proxyActivities,
  setHandler,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import type { LabServiceActivities } from '../activities/lab-service-activities';
import type { LearnerActivities } from '../activities/learner-activities';
import type { CampaignConfig } from '../config/campaign-config';
import type { CampaignResults, CampaignState } from '../domain/campaign-status';
import type { ExperimentOutcome, Proposal } from '../domain/types';
import { wellForIndex } from '../lab/plate';
import {
  approveBatchUpdate,
  confirmActionUpdate,
  experimentPrioritySignal,
  incubatorPrioritySignal,
  incubatorSlotGrantedSignal,
  instrumentWaitSignal,
  pauseSignal,
  rejectBatchUpdate,
  releaseIncubatorSlotSignal,
  resultsQuery,
  resumeSignal,
  setBudgetUpdate,
  setPriorityUpdate,
  statusQuery,
  stopSignal,
} from '../temporal/messages';
import { ASSAY, CAMPAIGN_ID, CAMPAIGN_STATUS, CELL_LINE, COMPOUND } from '../temporal/search-attributes';
import { incubatorWorkflowId } from '../temporal/task-queues';
import { CampaignStateModel, isTerminal, type CampaignSnapshot } from './campaign-state';
import { experimentWorkflow, type ExperimentFailureDetails, type ExperimentInput } from './experiment';

/**
 * A campaign: propose → execute → learn until the question is answered, the budget is spent,
 * the iterations run out or a person stops it.
 *
 * Each proposal runs as a child experiment workflow (a batch in parallel, on one plate) so every
 * well has its own history, its own page in the Web UI and its own failure. Learning is an
 * activity (see learner-activities.ts). A batch's plate holds an incubator slot for the whole
 * batch (see incubator.ts); a person may have to approve each batch or confirm loading the plate.
 * The campaign continues-as-new between batches when Temporal suggests it, carrying its state as
 * plain JSON, so a 1,000-experiment campaign stays far from history limits.
 */
export interface CampaignInput {
  config: CampaignConfig;
  labTaskQueue: string;
  /** false keeps cell-line and compound names out of the experiments' search attributes (payload encryption on). */
  searchableNames?: boolean;
  /** Present only when continuing as new. */
  snapshot?: CampaignSnapshot;
}

export async function campaignWorkflow(input: CampaignInput): Promise<CampaignResults> {
  const info = workflowInfo();
  const campaignId = info.workflowId;
  const { config } = input;
  const state = input.snapshot
    ? new CampaignStateModel(campaignId, config, input.snapshot)
    : CampaignStateModel.fresh(campaignId, config, `${config.name}-${info.firstExecutionRunId.slice(0, 8)}`);
  const incubator = getExternalWorkflowHandle(incubatorWorkflowId(input.labTaskQueue));

  const { proposeBatch } = proxyActivities<LearnerActivities>({
    // A batch takes seconds (64 pairs: ~2 s); the learner cannot heartbeat mid-computation, so a
    // short limit is what lets a batch move on quickly when its worker is killed while learning.
    startToCloseTimeout: '1 minute',
    retry: { initialInterval: '1 second', maximumAttempts: 5 },
  });
  const { requestIncubatorSlot } = proxyActivities<LabServiceActivities>({
    startToCloseTimeout: '1 minute',
    retry: { initialInterval: '1 second', maximumInterval: '30 seconds' },
  });

  setHandler(pauseSignal, (request) => {
    if (state.snapshot.stopRequested || state.snapshot.paused) return; // pausing twice is a no-op
    state.snapshot.paused = true;
    state.snapshot.pauseReason = request?.reason ?? 'paused by operator';
  });
  setHandler(resumeSignal, () => {
    if (!state.snapshot.paused) return; // resuming a running campaign is a no-op
    state.snapshot.paused = false;
    state.snapshot.pauseReason = '';
    // Failures a person has already looked at do not trip the alarm again.
    state.snapshot.failureWindowStart = state.snapshot.outcomes.length;
  });
  setHandler(stopSignal, (request) => {
    if (state.snapshot.stopRequested) return;
    state.snapshot.stopRequested = true;
    state.snapshot.stopReason = request?.reason ?? 'stopped by operator';
  });
  setHandler(instrumentWaitSignal, ({ experimentWorkflowId, instrument, kind, waiting }) => {
    if (waiting) state.waitingFor.set(experimentWorkflowId, { instrument, kind: kind ?? 'instrument' });
    else state.waitingFor.delete(experimentWorkflowId);
  });
  setHandler(incubatorSlotGrantedSignal, ({ plateId }) => {
    state.grantedPlate = plateId;
  });
  setHandler(
    setBudgetUpdate,
    ({ budgetUsd }) => {
      const previousBudgetUsd = state.snapshot.budgetUsd;
      state.snapshot.budgetUsd = budgetUsd;
      return { previousBudgetUsd, budgetUsd, spentUsd: state.status().spentUsd };
    },
    { validator: (request) => reject(state.budgetProblem(request?.budgetUsd)) },
  );
  setHandler(
    setPriorityUpdate,
    async ({ priorityKey }) => {
      const previousPriorityKey = state.snapshot.priorityKey;
      state.snapshot.priorityKey = priorityKey;
      // Operations not yet scheduled (next steps of running wells, the incubator queue) use the new priority.
      const notify = [...state.running.values()].map((r) =>
        getExternalWorkflowHandle(r.workflowId)
          .signal(experimentPrioritySignal, { priorityKey })
          .catch(() => undefined),
      );
      notify.push(
        incubator.signal(incubatorPrioritySignal, { holderWorkflowId: campaignId, priorityKey }).catch(() => undefined),
      );
      await Promise.all(notify);
      return { previousPriorityKey, priorityKey };
    },
    {
      validator: (request) => {
        const p = request?.priorityKey;
        if (typeof p !== 'number' || !Number.isInteger(p) || p < 1 || p > 5)
          throw new Error(`priorityKey must be a whole number from 1 (highest) to 5 (lowest) (got ${String(p)})`);
        reject(isTerminal(state.lifecycle) ? `the campaign has already ended (${state.lifecycle})` : undefined);
      },
    },
  );
  setHandler(
    approveBatchUpdate,
    (_request) => {
      const wells = state.pendingBatch?.length ?? 0;
      state.decision = { approved: true };
      return { approvedWells: wells };
    },
    {
      validator: (_request) =>
        reject(state.pendingBatch && !state.decision ? undefined : 'no batch is waiting for approval'),
    },
  );
  setHandler(
    rejectBatchUpdate,
    ({ reason }) => {
      const wells = state.pendingBatch?.length ?? 0;
      state.decision = { approved: false, reason: reason.trim() };
      return { rejectedWells: wells };
    },
    {
      validator: (request) => {
        reject(state.pendingBatch && !state.decision ? undefined : 'no batch is waiting for approval');
        const reason = request?.reason;
        if (typeof reason !== 'string' || reason.trim() === '' || reason.length > 500)
          throw new Error('reason must say why the batch is rejected (1-500 characters)');
      },
    },
  );
  setHandler(
    confirmActionUpdate,
    (_request) => {
      const confirmed = state.pendingAction ?? '';
      state.actionConfirmed = true;
      return { confirmed };
    },
    {
      validator: (_request) =>
        reject(
          state.pendingAction && !state.actionConfirmed ? undefined : 'no manual step is waiting for confirmation',
        ),
    },
  );
  setHandler(statusQuery, () => state.status());
  setHandler(resultsQuery, () => ({ status: state.status(), outcomes: state.snapshot.outcomes }));

  const setLifecycle = (lifecycle: CampaignState, detail: string): void => {
    if (state.lifecycle !== lifecycle) upsertSearchAttributes([{ key: CAMPAIGN_STATUS, value: lifecycle }]);
    state.lifecycle = lifecycle;
    state.detail = detail;
  };

  /** Ask the learner for the next batch (or, with no room, only for fresh estimates). */
  const learn = async (iteration: number, maxTreatments: number) => {
    state.snapshot.proposalRounds += 1;
    const round = state.snapshot.rejected.filter((r) => r.iteration === iteration).length;
    const proposed = await proposeBatch({
      proposer: config.proposer,
      settings: {
        cellLines: config.cellLines,
        compounds: config.compounds,
        doseRange: config.doseRange,
        assay: config.assay,
        objective: config.objective,
        seed: config.seed,
        controlsPerLine: config.controlsPerLine,
        rangeExtensionFactor: config.rangeExtensionFactor,
      },
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
    setLifecycle(lifecycle, detail);
    await condition(allHandlersFinished);
    return { status: state.status(), outcomes: state.snapshot.outcomes };
  };
  const halted = () => state.snapshot.paused || state.snapshot.stopRequested;
  setLifecycle(state.snapshot.paused ? 'paused' : 'running', state.snapshot.pauseReason);

  for (;;) {
    if (state.snapshot.paused && !state.snapshot.stopRequested) {
      setLifecycle('paused', state.snapshot.pauseReason);
      await condition(() => !state.snapshot.paused || state.snapshot.stopRequested);
      setLifecycle('running', '');
    }
    if (state.snapshot.stopRequested) return finish('stopped', state.snapshot.stopReason);
    if (state.snapshot.iteration >= config.maxIterations)
      return finish('completed', `all ${config.maxIterations} iterations ran`);

    const iteration = state.snapshot.iteration + 1;
    const proposed = await learn(iteration, config.batchSize);
    if (proposed.finished) return finish('goal reached', proposed.finished.detail);
    if (proposed.proposals.every((p) => p.isControl))
      return finish('completed', 'the proposer has no untried doses left in the range');

    const batch = state.fitToBudget(proposed.proposals);
    if (!batch) {
      return finish(
        'budget exhausted',
        `$${state.status().spentUsd.toFixed(2)} of $${state.snapshot.budgetUsd.toFixed(2)} spent; the next experiment does not fit`,
      );
    }
    // A pause or stop that arrived while the learner was thinking takes effect before any well starts.
    if (halted()) continue;

    if (config.approval === 'required') {
      state.pendingBatch = batch;
      state.decision = undefined;
      setLifecycle(
        'awaiting approval',
        `${batch.length} wells proposed for iteration ${iteration}; approve or reject with a reason`,
      );
      await condition(() => state.decision !== undefined || state.snapshot.stopRequested);
      const decision = state.decision as CampaignStateModel['decision']; // set by an update while we waited
      state.pendingBatch = undefined;
      state.decision = undefined;
      setLifecycle('running', '');
      if (!decision) continue; // stopped while waiting
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
    const holding = await takeIncubatorSlot(plateId);
    if (!holding) continue;
    try {
      if (config.manualPlateLoading) {
        state.pendingAction = `load plate ${plateId} (${batch.length} wells) into the incubator`;
        state.actionConfirmed = false;
        setLifecycle('waiting for a person', state.pendingAction);
        await condition(() => state.actionConfirmed || state.snapshot.stopRequested);
        const confirmed = state.actionConfirmed as boolean; // set by an update while we waited
        state.pendingAction = undefined;
        setLifecycle('running', '');
        if (!confirmed) continue;
      }
      await runBatch(state, input, iteration, plateId, batch);
    } finally {
      await releaseSlot(plateId);
    }
    state.normaliseIteration(iteration);
    state.snapshot.iteration = iteration;
    const alarm = state.failureAlarm();
    if (alarm && !state.snapshot.paused) {
      state.snapshot.paused = true;
      state.snapshot.pauseReason = alarm;
    }

    if (workflowInfo().continueAsNewSuggested) {
      await condition(allHandlersFinished);
      state.snapshot.runs += 1;
      return continueAsNew<typeof campaignWorkflow>({ ...input, snapshot: state.snapshot });
    }
  }

  /** Waits (durably, in priority order with other campaigns) until the incubator takes the plate. */
  async function takeIncubatorSlot(plateId: string): Promise<boolean> {
    state.detail = `waiting for an incubator slot for plate ${plateId}`;
    await requestIncubatorSlot({
      labTaskQueue: input.labTaskQueue,
      request: { holderWorkflowId: campaignId, plateId, priorityKey: state.snapshot.priorityKey },
    });
    await condition(() => state.grantedPlate === plateId || state.snapshot.stopRequested);
    state.detail = '';
    if (state.grantedPlate === plateId) return true;
    await releaseSlot(plateId); // withdraw the request
    return false;
  }

  async function releaseSlot(plateId: string): Promise<void> {
    state.grantedPlate = undefined;
    await incubator.signal(releaseIncubatorSlotSignal, { plateId }).catch(() => undefined);
  }
}

function reject(problem: string | undefined): void {
  if (problem) throw new Error(problem);
}

/** Runs one batch on one plate; results are matched to proposals by id, whatever order they end in. */
async function runBatch(
  state: CampaignStateModel,
  input: CampaignInput,
  iteration: number,
  plateId: string,
  batch: Proposal[],
): Promise<void> {
  const { config } = input;
  const cellsPerWell = config.assay === 'imaging' ? 5_000 : 10_000;
  await Promise.all(
    batch.map(async (proposal, index) => {
      const location = { plateId, well: wellForIndex(index) };
      const workflowId = `${state.campaignId}/${proposal.proposalId}`;
      state.running.set(proposal.proposalId, { proposal, location, workflowId, committedUsd: state.costOf(proposal) });
      const truth = config.labProfile.compounds[proposal.compound];
      const childInput: ExperimentInput = {
        proposal,
        location,
        labTaskQueue: input.labTaskQueue,
        protocol: { ...config.protocol, cellsPerWell },
        secondsPerLabHour: config.secondsPerLabHour,
        campaignId: state.campaignId,
        heartbeatTimeoutSeconds: config.heartbeatTimeoutSeconds,
        priorityKey: state.snapshot.priorityKey,
        fairnessKey: state.campaignId,
        compoundPricing: truth,
        simulation: {
          labSeed: config.seed,
          biology: config.labProfile.cellLines[proposal.cellLine]!,
          faults: config.labProfile.faults,
          plateNoiseKey: `${config.name}/p${String(iteration).padStart(3, '0')}`,
          response:
            truth && !proposal.isControl
              ? {
                  ic50Micromolar: truth.ic50Micromolar[proposal.cellLine]!,
                  hillSlope: truth.hillSlope,
                  top: truth.top,
                  bottom: truth.bottom,
                }
              : undefined,
        },
      };
      const base = { proposal, location, experimentWorkflowId: workflowId, iteration };
      let outcome: ExperimentOutcome;
      try {
        const report = await executeChild(experimentWorkflow, {
          workflowId,
          args: [childInput],
          staticSummary: describeProposal(proposal),
          priority: { priorityKey: state.snapshot.priorityKey, fairnessKey: state.campaignId },
          typedSearchAttributes: [
            { key: CAMPAIGN_ID, value: state.campaignId },
            ...(input.searchableNames === false
              ? []
              : [
                  { key: CELL_LINE, value: [proposal.cellLine] },
                  { key: COMPOUND, value: [proposal.isControl ? 'vehicle' : proposal.compound] },
                ]),
            { key: ASSAY, value: proposal.assay },
          ],
        });
        outcome = {
          ...base,
          status: 'succeeded',
          readout: report.readout,
          costUsd: report.costUsd,
          completedSteps: ['seed', 'dose', 'measure'],
        };
      } catch (err) {
        const failure =
          err instanceof ChildWorkflowFailure && err.cause instanceof ApplicationFailure ? err.cause : undefined;
        const details = failure?.details?.[0] as ExperimentFailureDetails | undefined;
        outcome = {
          ...base,
          status: 'failed',
          failure: { type: failure?.type ?? 'ExperimentFailed', message: failure?.message ?? String(err) },
          costUsd: details?.costUsd ?? 0,
          completedSteps: (details?.completedSteps ?? []) as ExperimentOutcome['completedSteps'],
        };
      }
      state.recordOutcome(outcome);
    }),
  );
}

export function describeProposal(p: Proposal): string {
  return p.isControl
    ? `${p.cellLine} vehicle control (${p.assay})`
    : `${p.cellLine} × ${p.compound} @ ${p.doseMicromolar} µM (${p.assay})`;
}
