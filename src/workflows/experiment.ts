import {
  ActivityFailure,
  ApplicationFailure,
  getExternalWorkflowHandle,
  proxyActivities,
  setHandler,
  sleep,
  workflowInfo,
} from '@temporalio/workflow';
import { INSTRUMENT_FAULT, INSTRUMENT_OFFLINE, OUT_OF_STOCK } from '../domain/failures';
import { experimentPrioritySignal, instrumentWaitSignal } from '../temporal/messages';
import { instrumentTaskQueue, type OperationInstrument } from '../temporal/task-queues';
import type { LabActivities } from '../activities/lab-activities';
import { stepCosts, type CompoundPricing } from '../domain/costs';
import type { Proposal, RawReadout, WellLocation } from '../domain/types';

/**
 * One well: seed → incubate (attachment) → add compound → incubate (treatment) → measure.
 *
 * Incubations are durable workflow timers, not activities that wait: a worker can die during a
 * three-day incubation and the experiment resumes on the next worker exactly on time. The lab
 * steps run on the lab task queue. A permanent fault ends the experiment as a failed workflow
 * whose ApplicationFailure carries the fault type and what was already spent, so the campaign
 * can record the reason, exclude the well from learning and still count its cost.
 */
export interface ExperimentInput {
  proposal: Proposal;
  location: WellLocation;
  labTaskQueue: string;
  protocol: { attachmentHours: number; treatmentHours: number; cellsPerWell: number };
  secondsPerLabHour: number;
  /** Silence after which a lab step's attempt is retried (absent in histories from before it existed: 30). */
  heartbeatTimeoutSeconds?: number;
  /** The campaign this well belongs to (its consumption is charged to it). */
  campaignId: string;
  /** Temporal priority key (1 highest .. 5 lowest) for this experiment's instrument operations. */
  priorityKey: number;
  /** Campaigns of equal priority share instruments fairly by this key (the campaign id). */
  fairnessKey: string;
  /** The lab's catalogue price of the compound, so the well reports what its steps cost. */
  compoundPricing?: CompoundPricing;
  /** The plate's logical label, stable across reruns of the campaign (as on a barcode). */
  plateLabel?: string;
}

export interface ExperimentReport {
  readout: RawReadout;
  costUsd: number;
}

/** Details attached to a failed experiment's ApplicationFailure. */
export interface ExperimentFailureDetails {
  costUsd: number;
  completedSteps: string[];
}

const MEDIUM_MICROLITRES = 100;
const COMPOUND_MICROLITRES = 10;

export async function experimentWorkflow(input: ExperimentInput): Promise<ExperimentReport> {
  let priorityKey = input.priorityKey;
  // The campaign's priority can change while this well incubates; the next operation uses the new one.
  setHandler(experimentPrioritySignal, ({ priorityKey: next }) => {
    priorityKey = next;
  });
  const on = (instrument: OperationInstrument) =>
    proxyActivities<LabActivities>({
      taskQueue: instrumentTaskQueue(input.labTaskQueue, instrument),
      priority: { priorityKey, fairnessKey: input.fairnessKey },
      // Waiting for a busy instrument is queueing, not failure: no schedule-to-start limit.
      startToCloseTimeout: '10 minutes',
      // A hung instrument stops heartbeating; the attempt is then retried instead of waiting 10 min.
      heartbeatTimeout: `${input.heartbeatTimeoutSeconds ?? 30} seconds`,
      retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '1 minute', maximumAttempts: 12 },
    });
  const { proposal, location, secondsPerLabHour } = input;
  const costs = stepCosts(proposal.assay, proposal.doseMicromolar, input.compoundPricing);
  let spentUsd = 0;
  const completedSteps: string[] = [];

  const step = async <T>(name: string, costUsd: number, run: () => Promise<T>): Promise<T> => {
    try {
      const result = await waitThroughOutages(run);
      spentUsd += costUsd;
      completedSteps.push(name);
      return result;
    } catch (err) {
      throw experimentFailure(err, name, { costUsd: round6(spentUsd), completedSteps });
    }
  };

  await step('seed', costs.seedUsd, () =>
    on('liquid-handler').seedWell({
      location,
      cellLine: proposal.cellLine,
      cellsPerWell: input.protocol.cellsPerWell,
      volumeMicrolitres: MEDIUM_MICROLITRES,
      assay: proposal.assay,
      campaignId: input.campaignId,
      secondsPerLabHour,
      plateLabel: input.plateLabel,
    }),
  );
  await sleep(labHours(input.protocol.attachmentHours, secondsPerLabHour));
  await step('dose', costs.doseUsd, () =>
    on('liquid-handler').addCompound({
      location,
      compound: proposal.compound,
      doseMicromolar: proposal.doseMicromolar,
      volumeMicrolitres: COMPOUND_MICROLITRES,
      attachmentHours: input.protocol.attachmentHours,
      campaignId: input.campaignId,
      secondsPerLabHour,
    }),
  );
  await sleep(labHours(input.protocol.treatmentHours, secondsPerLabHour));
  const reader = proposal.assay === 'imaging' ? 'imager' : 'plate-reader';
  const readout = await step('measure', costs.measureUsd, () =>
    on(reader).measureWell({
      location,
      assay: proposal.assay,
      treatmentHours: input.protocol.treatmentHours,
      campaignId: input.campaignId,
      secondsPerLabHour,
    }),
  );
  return { readout, costUsd: round6(spentUsd) };
}

/**
 * Runs a lab step; while its instrument is offline or something it needs is out of stock, waits
 * on a durable timer (backing off from 2 s to 1 min of real time) and tells the campaign what it
 * waits for, however long
 * the outage lasts. An outage is not the experiment's fault, so it never fails it.
 */
async function waitThroughOutages<T>(run: () => Promise<T>): Promise<T> {
  let backoffMs = 2_000;
  let waitingFor: string | undefined;
  for (;;) {
    try {
      const result = await run();
      if (waitingFor) await tellCampaign(waitingFor, false);
      return result;
    } catch (err) {
      const cause = err instanceof ActivityFailure ? err.cause : undefined;
      if (!(cause instanceof ApplicationFailure) || (cause.type !== INSTRUMENT_OFFLINE && cause.type !== OUT_OF_STOCK))
        throw err;
      const details = cause.details?.[0] as { instrument?: string } | undefined;
      const what = `${cause.type === OUT_OF_STOCK ? 'stock' : 'instrument'}:${details?.instrument ?? 'instrument'}`;
      if (waitingFor !== what) {
        if (waitingFor) await tellCampaign(waitingFor, false);
        await tellCampaign(what, true);
        waitingFor = what;
      }
      await sleep(backoffMs);
      backoffMs = Math.min(backoffMs * 2, 60_000);
    }
  }
}

/** `what` is "instrument:<name>" or "stock:<item>". */
async function tellCampaign(what: string, waiting: boolean): Promise<void> {
  const [kind, ...rest] = what.split(':');
  const instrument = rest.join(':');
  const { parent, workflowId } = workflowInfo();
  if (!parent) return;
  try {
    await getExternalWorkflowHandle(parent.workflowId).signal(instrumentWaitSignal, {
      experimentWorkflowId: workflowId,
      instrument,
      kind: kind === 'stock' ? 'stock' : 'instrument',
      waiting,
    });
  } catch {
    // The campaign may have moved to a new run (continue-as-new) or ended; the wait goes on regardless.
  }
}

/** Lab hours → real milliseconds on the campaign's clock (3600 s per lab hour is real time). */
export function labHours(hours: number, secondsPerLabHour: number): number {
  return Math.max(1, Math.round(hours * secondsPerLabHour * 1000));
}

function experimentFailure(err: unknown, stepName: string, details: ExperimentFailureDetails): ApplicationFailure {
  const cause = err instanceof ActivityFailure ? err.cause : err;
  const type = cause instanceof ApplicationFailure && cause.type ? cause.type : INSTRUMENT_FAULT;
  const message = cause instanceof Error ? cause.message : String(cause);
  return ApplicationFailure.create({
    type,
    message: `${stepName} failed: ${message}`,
    nonRetryable: true,
    details: [details],
  });
}

function round6(usd: number): number {
  return Math.round(usd * 1e6) / 1e6;
}
