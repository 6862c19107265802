import {
  ActivityFailure,
  ApplicationFailure,
  condition,
  getExternalWorkflowHandle,
  patched,
  proxyActivities,
  setHandler,
  sleep,
  workflowInfo,
} from '@temporalio/workflow';
import type { LabActivities } from '../activities/lab-activities';
import type { Assay } from '../domain/types';
import { INSTRUMENT_FAULT, INSTRUMENT_OFFLINE, NOT_RUN_STOPPED, OUT_OF_STOCK } from '../domain/failures';
import type { PlateStepReport } from '../instruments/plate-driver';
import * as messages from '../temporal/messages';
import { instrumentTaskQueue, type OperationInstrument } from '../temporal/task-queues';

/**
 * One plate through the protocol: seed the plate map → attachment → dose the plate map →
 * treatment → read (or image) the plate. Each step is ONE activity on its instrument's queue,
 * so each instrument sees one protocol run per plate step, keyed `<plate id>/<step>`; the
 * incubations are the plate's durable timers, so every well on the plate starts its incubation
 * when the plate's step ends, with no drift from well to well.
 *
 * Why a plate workflow beside the experiment workflows (and not per-well activities coalesced
 * at the instrument): the plate is the unit a lab handles, so it gets its own history whose
 * events are the instrument runs, its own Web UI page, and the only retry and outage logic;
 * each experiment stays a child workflow of the campaign with its own page, and its history
 * records its well's seed, dose and measure outcomes as they arrive (signals from this plate).
 * A coalescer at the instrument would have to hold per-well activities open while it gathered a
 * plate, which turns one physical run into many half-finished activities that retry on their own.
 *
 * A well that fails a step (contamination, an unknown pair, a refused dose) leaves the plate's
 * later steps; a step that fails as a whole (a permanent fault, or retries exhausted) fails every
 * well still on the plate, each with that reason. While an instrument is offline or stock is out
 * the plate waits on timers and tells its campaign what it waits for; a stop from the campaign
 * ends that wait and the wells not yet run end as "not run (stopped)".
 */
export interface PlateWell {
  well: string;
  experimentWorkflowId: string;
  cellLine: string;
  /** '' with dose 0 for a vehicle control. */
  compound: string;
  doseMicromolar: number;
}

export interface PlateInput {
  plateId: string;
  /** Stable across reruns of the campaign (the virtual lab keys its noise by it). */
  plateLabel: string;
  campaignId: string;
  labTaskQueue: string;
  assay: Assay;
  protocol: { attachmentHours: number; treatmentHours: number; cellsPerWell: number };
  secondsPerLabHour: number;
  heartbeatTimeoutSeconds?: number;
  priorityKey: number;
  fairnessKey: string;
  wells: PlateWell[];
  /** The incubator slot the plate holds: freed by the plate itself once it is read (it leaves the incubator). */
  incubatorSlot?: { incubatorWorkflowId: string; holderWorkflowId: string };
}

export interface PlateReport {
  plateId: string;
  /** Wells that reached each step's end successfully. */
  seeded: number;
  dosed: number;
  measured: number;
  /** Lab seconds the instruments worked on this plate. */
  instrumentSeconds: number;
}

export const MEDIUM_MICROLITRES = 100;
/** Attempts of one plate-step activity before the step fails as a whole. */
const MAX_ATTEMPTS = 12;
export const COMPOUND_MICROLITRES = 10;
/**
 * `patched()` id: the plate moves on when a step ends. The step's news to its wells is delivered in
 * the background and only the plate's end waits for it, and the incubation's timer runs from the
 * step's end as the lab reported it (older runs waited for the news before the next step, and
 * timed the incubation from when they heard of the step's end).
 */
export const MOVES_ON_AT_STEP_END = 'plate-moves-on-at-step-end';

export async function plateWorkflow(input: PlateInput): Promise<PlateReport> {
  let priorityKey = input.priorityKey;
  let stopped: string | undefined;
  setHandler(messages.experimentPrioritySignal, ({ priorityKey: next }) => void (priorityKey = next));
  setHandler(messages.plateStopSignal, (request) => void (stopped ??= request?.reason ?? 'stopped by a person'));

  const on = (instrument: OperationInstrument, summary: string) =>
    proxyActivities<LabActivities>({
      taskQueue: instrumentTaskQueue(input.labTaskQueue, instrument),
      priority: { priorityKey, fairnessKey: input.fairnessKey },
      summary,
      // Waiting for a busy instrument is queueing, not failure: no schedule-to-start limit.
      startToCloseTimeout: '30 minutes',
      // A hung instrument stops heartbeating; the attempt is then retried instead of waiting it out.
      heartbeatTimeout: `${input.heartbeatTimeoutSeconds ?? 30} seconds`,
      retry: {
        initialInterval: '1 second',
        backoffCoefficient: 2,
        maximumInterval: '1 minute',
        maximumAttempts: MAX_ATTEMPTS,
      },
    });
  const plate = input.plateId.slice(input.plateId.lastIndexOf('-') + 1);
  const base = {
    plateId: input.plateId,
    campaignId: input.campaignId,
    secondsPerLabHour: input.secondsPerLabHour,
    assay: input.assay,
  };
  let alive = input.wells;
  let instrumentSeconds = 0;
  // Each step's news to its wells (36 signals, which the server delivers one by one) travels while
  // the plate incubates and runs its next step; none is lost, because the plate ends only once
  // every one of them is delivered (finish). Before, the next step also waited for the news.
  const newsInBackground = patched(MOVES_ON_AT_STEP_END);
  const news: Promise<void>[] = [];
  const counts = { seed: 0, dose: 0, measure: 0 };

  /**
   * Runs one plate step through outages and keeps the wells that succeeded. Returns the telling
   * of each well's outcome to its experiment, which goes on while the plate incubates: the
   * incubation starts when the step ends, not when the news has been delivered.
   */
  const step = async <T>(
    name: messages.WellStep,
    run: (priorAttempts: number) => Promise<PlateStepReport<T>>,
  ): Promise<{ told: Promise<void>; finishedAtMs?: number }> => {
    const plateStepKey = `${input.plateId}/${name === 'measure' ? 'read' : name}`;
    let report: PlateStepReport<T> | undefined;
    let failure: { type: string; message: string } | undefined;
    try {
      report = await waitThroughOutages(run, () => stopped, alive.length);
    } catch (err) {
      failure = err instanceof Stopped ? notRun(err.reason, name) : stepFailure(err, name);
    }
    instrumentSeconds += report?.instrumentSeconds ?? 0;
    const byWell = new Map(report?.wells.map((w) => [w.well, w]));
    const reports = alive.map((w): [PlateWell, messages.WellStepReport] => {
      const outcome = byWell.get(w.well);
      return [
        w,
        {
          step: name,
          plateStepKey,
          outcome: outcome
            ? outcome.ok
              ? { ok: true, value: outcome.value }
              : { ok: false, failure: outcome.failure }
            : {
                ok: false,
                failure: failure ?? {
                  type: INSTRUMENT_FAULT,
                  message: `${name} of plate ${input.plateId}: the instrument did not report well ${w.well}`,
                },
              },
        },
      ];
    });
    alive = reports.filter(([, r]) => r.outcome.ok).map(([w]) => w);
    counts[name] = alive.length;
    const told = Promise.all(reports.map(([w, r]) => tell(w.experimentWorkflowId, r, newsInBackground))).then(
      () => undefined,
    );
    return { told, finishedAtMs: report?.finishedAtMs };
  };
  const incubate = (hours: number, what: string, sinceStepEndMs = 0) =>
    sleep(Math.max(1, labHours(hours, input.secondsPerLabHour) - sinceStepEndMs), { summary: `${what} ${hours} h` });
  // The incubation starts the moment the step ends, with its news to the wells still on the way:
  // its timer runs from the step's end as the lab reported it, so the time the report took to
  // reach this workflow is not added to the incubation (at most a tenth of it and a minute, so a
  // lab clock that runs behind cannot cut an incubation short by more).
  const incubateWhileTelling = async (
    { told, finishedAtMs }: { told: Promise<void>; finishedAtMs?: number },
    hours: number,
    what: string,
  ) => {
    news.push(told);
    if (!newsInBackground) {
      await Promise.all([told, incubate(hours, what)]);
      return;
    }
    const limitMs = Math.min(labHours(hours, input.secondsPerLabHour) / 10, 60_000);
    const sinceStepEndMs = finishedAtMs === undefined ? 0 : Math.min(Math.max(Date.now() - finishedAtMs, 0), limitMs);
    await incubate(hours, what, sinceStepEndMs);
  };
  // Every well hears its last outcome before the plate ends (the campaign then knows all is told).
  const finish = async ({ told }: { told: Promise<void> }): Promise<PlateReport> => {
    await Promise.all([...news, told]);
    return {
      plateId: input.plateId,
      seeded: counts.seed,
      dosed: counts.dose,
      measured: counts.measure,
      instrumentSeconds,
    };
  };

  const seeded = await step('seed', (priorAttempts) =>
    on('liquid-handler', `seed plate ${plate} (${alive.length} wells)`).seedPlate({
      ...base,
      priorAttempts,
      plateLabel: input.plateLabel,
      wells: alive.map((w) => ({
        well: w.well,
        experimentWorkflowId: w.experimentWorkflowId,
        cellLine: w.cellLine,
        cellsPerWell: input.protocol.cellsPerWell,
        volumeMicrolitres: MEDIUM_MICROLITRES,
      })),
    }),
  );
  if (alive.length === 0) return finish(seeded);
  await incubateWhileTelling(seeded, input.protocol.attachmentHours, 'attachment');
  const dosed = await step('dose', (priorAttempts) =>
    on('liquid-handler', `dose plate ${plate} (${alive.length} wells)`).dosePlate({
      ...base,
      priorAttempts,
      attachmentHours: input.protocol.attachmentHours,
      wells: alive.map((w) => ({
        well: w.well,
        experimentWorkflowId: w.experimentWorkflowId,
        compound: w.compound,
        doseMicromolar: w.doseMicromolar,
        volumeMicrolitres: COMPOUND_MICROLITRES,
        wellVolumeMicrolitres: MEDIUM_MICROLITRES,
      })),
    }),
  );
  if (alive.length === 0) return finish(dosed);
  await incubateWhileTelling(dosed, input.protocol.treatmentHours, 'treatment');
  const reader: OperationInstrument = input.assay === 'imaging' ? 'imager' : 'plate-reader';
  const verb = input.assay === 'imaging' ? 'image' : 'read';
  const measured = await step('measure', (priorAttempts) =>
    on(reader, `${verb} plate ${plate} (${alive.length} wells)`).readPlate({
      ...base,
      priorAttempts,
      treatmentHours: input.protocol.treatmentHours,
      wells: alive.map((w) => ({ well: w.well, experimentWorkflowId: w.experimentWorkflowId })),
    }),
  );
  // Read: the plate is out of the incubator for good, so its slot goes to the next plate now.
  const slot = input.incubatorSlot;
  const released = slot
    ? getExternalWorkflowHandle(slot.incubatorWorkflowId)
        .signal(messages.releaseIncubatorSlotSignal, {
          plateId: input.plateId,
          holderWorkflowId: slot.holderWorkflowId,
        })
        .catch(() => undefined)
    : Promise.resolve();
  const [report] = await Promise.all([finish(measured), released]);
  return report;
}

/**
 * Signals a well's outcome to its experiment. The plate and its wells' records start together, so
 * a record may (rarely) not exist yet: retries cover that, a second apart (older runs: at most 5
 * attempts) or backing off to 8 s over about a minute (plates that start before their wells, whose
 * first news can come before a busy server has started every well). An experiment that has ended
 * (cancelled) needs no news.
 */
async function tell(experimentWorkflowId: string, report: messages.WellStepReport, patient: boolean): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await getExternalWorkflowHandle(experimentWorkflowId).signal(messages.wellStepSignal, report);
    } catch {
      if (attempt >= (patient ? 10 : 5)) return;
      await sleep(patient ? Math.min(1_000 * 2 ** (attempt - 1), 8_000) : 1_000);
    }
  }
}

class Stopped extends Error {
  constructor(readonly reason: string) {
    super(reason);
  }
}

/**
 * Runs a plate step; while its instrument is offline or something it needs is out of stock, waits
 * on a durable timer (backing off from 2 s to 1 min) and tells the campaign what it waits for,
 * however long the outage lasts, unless the campaign is stopped meanwhile. An outage is not the
 * wells' fault, so it never fails them.
 */
async function waitThroughOutages<T>(
  run: (priorAttempts: number) => Promise<T>,
  stopped: () => string | undefined,
  wells: number,
): Promise<T> {
  let backoffMs = 2_000;
  let waitingFor: string | undefined;
  // Each activity makes at most MAX_ATTEMPTS attempts: the next one numbers its attempts after them.
  let priorAttempts = 0;
  try {
    for (; ; priorAttempts += MAX_ATTEMPTS) {
      try {
        return await run(priorAttempts);
      } catch (err) {
        const cause = err instanceof ActivityFailure ? err.cause : undefined;
        if (
          !(cause instanceof ApplicationFailure) ||
          (cause.type !== INSTRUMENT_OFFLINE && cause.type !== OUT_OF_STOCK)
        )
          throw err;
        const details = cause.details?.[0] as { instrument?: string } | undefined;
        const what = `${cause.type === OUT_OF_STOCK ? 'stock' : 'instrument'}:${details?.instrument ?? 'instrument'}`;
        if (waitingFor !== what) {
          if (waitingFor) await tellCampaign(waitingFor, false, wells);
          await tellCampaign(what, true, wells);
          waitingFor = what;
        }
        const reason = stopped();
        if (reason !== undefined || (await condition(() => stopped() !== undefined, backoffMs)))
          throw new Stopped(stopped() ?? reason ?? 'stopped');
        backoffMs = Math.min(backoffMs * 2, 60_000);
      }
    }
  } finally {
    if (waitingFor) await tellCampaign(waitingFor, false, wells);
  }
}

/** `what` is "instrument:<name>" or "stock:<item>". */
async function tellCampaign(what: string, waiting: boolean, wells: number): Promise<void> {
  const [kind, ...rest] = what.split(':');
  const { parent, workflowId } = workflowInfo();
  if (!parent) return;
  try {
    await getExternalWorkflowHandle(parent.workflowId).signal(messages.instrumentWaitSignal, {
      experimentWorkflowId: workflowId,
      instrument: rest.join(':'),
      kind: kind === 'stock' ? 'stock' : 'instrument',
      waiting,
      wells,
    });
  } catch {
    // The campaign may have moved to a new run (continue-as-new) or ended; the wait goes on regardless.
  }
}

function stepFailure(err: unknown, step: string): { type: string; message: string } {
  const cause = err instanceof ActivityFailure ? err.cause : err;
  const type = cause instanceof ApplicationFailure && cause.type ? cause.type : INSTRUMENT_FAULT;
  const message = cause instanceof Error ? cause.message : String(cause);
  return { type, message: `the plate's ${step} failed: ${message}` };
}

function notRun(reason: string, step: string): { type: string; message: string } {
  return { type: NOT_RUN_STOPPED, message: `not run (stopped before ${step}): ${reason}` };
}

/** Lab hours → real milliseconds on the campaign's clock (3600 s per lab hour is real time). */
export function labHours(hours: number, secondsPerLabHour: number): number {
  return Math.max(1, Math.round(hours * secondsPerLabHour * 1000));
}
