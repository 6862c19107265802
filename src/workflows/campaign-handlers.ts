import { condition, getExternalWorkflowHandle, setCurrentDetails, setHandler } from '@temporalio/workflow';
import { campaignDetailsMarkdown } from '../domain/campaign-status';
import * as messages from '../temporal/messages';
import type { CampaignContext } from './campaign-context';

/**
 * The campaign's messages: each handler calls one command of the state model (campaign-state.ts),
 * and each validator is the model's own check, so both are unit-tested without Temporal. Only the
 * messages that must reach another workflow (a stop or a priority for the running plate, a
 * priority for the incubator queue) send signals from here.
 */
export function installHandlers(context: CampaignContext): void {
  const { state, incubator, campaignId } = context;
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
  setHandler(messages.resultsQuery, (request) => state.resultsPage(request));
}

/** The live summary in the Web UI follows the state: redrawn whenever something a person sees changes. */
export function followInWebUi({ state }: CampaignContext): void {
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
}

/** Wells waiting on stock or an offline instrument for longer than the set time: tell the webhooks once per wait. */
export function alertOnLongWaits({ state, outputs, campaignId }: CampaignContext, waitAlertMinutes: number): void {
  if (!outputs.on) return;
  const waitAlertMs = waitAlertMinutes * 60_000;
  const what = () =>
    state
      .waitingInstruments()
      .map((w) => `${w.kind} ${w.instrument}`)
      .join(', ');
  void (async () => {
    for (;;) {
      await condition(() => state.waitingFor.size > 0);
      const summary = `alert if still waiting for ${what()} after ${waitAlertMinutes} min`;
      if (await condition(() => state.waitingFor.size === 0, waitAlertMs, { summary })) continue;
      const detail = state
        .waitingInstruments()
        .map((w) =>
          w.kind === 'stock'
            ? `${w.experiments} well(s) wait for stock: ${w.instrument}; restock with cellos restock`
            : `${w.experiments} well(s) wait for the ${w.instrument}, which is offline`,
        )
        .join('; ');
      const headline = `${campaignId} has waited ${waitAlertMinutes} min for ${what()}`;
      outputs.notify('waiting-too-long', headline, detail, state.lifecycle);
      await condition(() => state.waitingFor.size === 0);
    }
  })();
}

function refuse(problem: string | undefined): void {
  if (problem) throw new Error(problem);
}
