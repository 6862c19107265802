import { activityInfo, ApplicationFailure, heartbeat, sleep } from '@temporalio/activity';
import type { LabConfig } from '../config/lab-config';
import { instrumentCapacity } from '../config/lab-config';
import type { Assay, RawReadout } from '../domain/types';
import { INSTRUMENT_BUSY, INSTRUMENT_OFFLINE, OUT_OF_STOCK } from '../domain/failures';
import type { CompoundPricing } from '../domain/costs';
import { InstrumentBusyError, type InstrumentGuard } from '../instruments/instrument-guard';
import type {
  CompoundStock,
  DosedWell,
  DoseWell,
  ImagerDriver,
  LiquidHandlerDriver,
  PlateReaderDriver,
  PlateStepReport,
  SeededWell,
  SeedWell,
  WellOutcome,
} from '../instruments/plate-driver';
import { dosePlateSeconds, imagePlateSeconds, readPlateSeconds, seedPlateSeconds } from '../instruments/plate-time';
import type { StepUse } from '../inventory/consumption';
import type { InventoryStore } from '../inventory/inventory-store';
import { LabFault } from '../lab/driver';
import type { OperationInstrument } from '../temporal/task-queues';

/**
 * Lab activities: one per plate step, on the task queue of the instrument that does it (liquid
 * handler: seed a plate map, dose a plate map; plate reader: read a plate; imager: image it).
 * Each is one protocol run on one plate and answers well by well; a failed well fails only its
 * own experiment.
 *
 * Exactly once per plate step: the step's operation key is `<plate id>/<step>`, chosen by the
 * plate workflow, so a retried attempt, a replay, a crashed worker and a new activity for the same
 * step after an outage all hand the driver the same key, and the driver finishes the run it may
 * have started instead of starting another (the virtual lab keeps each well's operation under
 * `<key>/<well>`; the Opentrons driver keeps a run ledger; a SiLA 2 reader answers a repeated Run
 * Key with its first read). While it works the activity holds a lease on the instrument (capacity
 * holds across worker processes) and heartbeats. Stock is drawn per well, once per key, before the
 * instrument is taken: a shortage never holds the instrument.
 */
export interface PlateStepInput {
  plateId: string;
  /** The campaign the consumption is charged to. */
  campaignId: string;
  /** The campaign's clock: a virtual instrument's work is compressed like incubations. */
  secondsPerLabHour: number;
  assay: Assay;
  /**
   * Attempts earlier activities made at this plate step (the plate issues the step again after
   * waiting out an outage), so each attempt at the step has its own number: `stepAttempt`.
   */
  priorAttempts?: number;
}

/** This attempt's number among all attempts at the plate step, across the activities that made them. */
export function stepAttempt(input: PlateStepInput): number {
  return (input.priorAttempts ?? 0) + activityInfo().attempt;
}

/** Each well names the experiment it belongs to (its consumption is charged to it). */
export interface ForExperiment {
  experimentWorkflowId: string;
}

export interface SeedPlateInput extends PlateStepInput {
  /** The plate's logical label (stable across reruns of the campaign), as on its barcode. */
  plateLabel: string;
  wells: (SeedWell & ForExperiment)[];
}

export interface DosePlateInput extends PlateStepInput {
  /** Lab hours the cells attached before dosing (the timer the plate waited). */
  attachmentHours: number;
  wells: (DoseWell & ForExperiment)[];
}

export interface ReadPlateInput extends PlateStepInput {
  /** Lab hours between dosing and reading. */
  treatmentHours: number;
  wells: ({ well: string } & ForExperiment)[];
}

/** The driver of each operation instrument, and whether it is simulated (its work then takes compressed time here). */
export interface LabInstruments {
  liquidHandler: LiquidHandlerDriver;
  plateReader: PlateReaderDriver;
  imager: ImagerDriver;
  /** Instruments whose driver is the virtual lab: the activity spends their work's (compressed) time. */
  simulated: ReadonlySet<OperationInstrument>;
  /**
   * Where the world is the virtual lab but a liquid handler is real (a robot against simulated
   * cells): the virtual lab repeats each successful liquid-handling step, under the same key, so
   * what a reader reads afterwards matches what was dispensed.
   */
  virtualWorld?: LiquidHandlerDriver;
  /** Whether the instrument working on this key still answers (the heartbeat stops when not). */
  responsive?(attempt: { operationKey: string; attempt: number }): boolean;
}

export interface LabActivityDependencies {
  instruments: LabInstruments;
  guard: InstrumentGuard;
  labConfig: LabConfig;
  inventory: InventoryStore;
  /** The lab's catalogue price of a compound (what a dose of it is charged at). */
  pricing: (compound: string) => CompoundPricing;
}

/** A lease outlives a killed worker by at most this long. */
export const LEASE_TTL_MS = 10_000;

export function plateStepKey(plateId: string, step: 'seed' | 'dose' | 'read'): string {
  return `${plateId}/${step}`;
}

export function createLabActivities({ instruments, guard, labConfig, inventory, pricing }: LabActivityDependencies) {
  /**
   * Draws each well's stock, then runs `operation` on the wells whose draw was possible under the
   * instrument's lease; a well whose draw is refused as impossible (a bad well, a dose no stock can
   * make) gets that refusal as its outcome and is left out of the run.
   */
  const run = async <T>(
    instrument: OperationInstrument,
    labSeconds: number,
    input: PlateStepInput,
    operationKey: string,
    uses: { use: StepUse; experimentWorkflowId: string; well: string }[],
    operation: (refused: ReadonlySet<string>) => Promise<PlateStepReport<T>>,
  ): Promise<PlateStepReport<T>> => {
    try {
      // Stock first, every well's draw in one transaction under its own key: a shortage never
      // holds the instrument, and a step waiting for stock has drawn nothing.
      const refusals = new Map<string, WellOutcome<T>>();
      const draws = inventory.consumeAll(
        uses.map(({ use, experimentWorkflowId, well }) => ({
          operationKey: `${operationKey}/${well}:consume`,
          campaignId: input.campaignId,
          experimentWorkflowId,
          use,
        })),
      );
      draws.forEach((draw, i) => {
        const { well } = uses[i]!;
        if (draw instanceof LabFault)
          refusals.set(well, { well, ok: false, failure: { type: draw.type, message: draw.message } });
      });
      const report =
        refusals.size === uses.length
          ? { operationKey, wells: [], instrumentSeconds: 0 }
          : await withLease(
              {
                guard,
                instrument,
                capacity: instrumentCapacity(labConfig, instrument),
                operationKey,
                attempt: stepAttempt(input),
                instruments,
              },
              async () => {
                if (instruments.simulated.has(instrument)) {
                  const workMs = (labSeconds / 3600) * input.secondsPerLabHour * 1000;
                  if (workMs >= 1) await sleep(workMs);
                }
                return operation(new Set(refusals.keys()));
              },
            );
      if (refusals.size === 0) return report;
      const ran = new Map(report.wells.map((w) => [w.well, w]));
      return { ...report, wells: uses.map(({ well }) => refusals.get(well) ?? ran.get(well)!).filter(Boolean) };
    } catch (err) {
      throw asActivityFailure(err, instrument);
    }
  };

  /**
   * A liquid-handling step on the wells whose stock was drawn; where the world is virtual behind a
   * real driver, the virtual lab then repeats what succeeded under the same key.
   */
  const liquidHandling = async <R extends { wells: { well: string }[] }, T>(
    request: R,
    refused: ReadonlySet<string>,
    step: (driver: LiquidHandlerDriver, request: R) => Promise<PlateStepReport<T>>,
  ): Promise<PlateStepReport<T>> => {
    const asked = { ...request, wells: request.wells.filter((w) => !refused.has(w.well)) };
    const report = await step(instruments.liquidHandler, asked);
    if (instruments.virtualWorld) {
      const done = new Set(report.wells.filter((w) => w.ok).map((w) => w.well));
      await step(instruments.virtualWorld, { ...asked, wells: asked.wells.filter((w) => done.has(w.well)) });
    }
    return report;
  };

  return {
    async seedPlate(input: SeedPlateInput): Promise<PlateStepReport<SeededWell>> {
      const { operationKey, ...header } = stepRequest(input, 'seed');
      const request = {
        operationKey,
        ...header,
        plateType: plateTypeOf(input.assay),
        plateLabel: input.plateLabel,
        wells: input.wells.map(({ experimentWorkflowId: _e, ...w }) => w),
      };
      const uses = wellUses(input, input.wells, (w, location) => ({
        step: 'seed',
        location,
        assay: input.assay,
        volumeMicrolitres: w.volumeMicrolitres,
      }));
      return finished(
        await run('liquid-handler', seedPlateSeconds(labConfig, request.wells), input, operationKey, uses, (refused) =>
          liquidHandling(request, refused, (driver, asked) => driver.seedPlate(asked)),
        ),
      );
    },

    async dosePlate(input: DosePlateInput): Promise<PlateStepReport<DosedWell>> {
      const { operationKey, ...header } = stepRequest(input, 'dose');
      const wells = input.wells.map(({ experimentWorkflowId: _e, ...w }) => w);
      const request = {
        operationKey,
        ...header,
        plateType: plateTypeOf(input.assay),
        attachmentHours: input.attachmentHours,
        wells,
        stocks: stocksFor(inventory, wells),
      };
      const uses = wellUses(input, input.wells, (w, location) => ({
        step: 'dose',
        location,
        compound: w.compound,
        doseMicromolar: w.doseMicromolar,
        volumeMicrolitres: w.volumeMicrolitres,
        wellVolumeMicrolitres: w.wellVolumeMicrolitres,
        compoundPricing: w.compound === '' ? undefined : pricing(w.compound),
      }));
      return finished(
        await run('liquid-handler', dosePlateSeconds(labConfig, wells), input, operationKey, uses, (refused) =>
          liquidHandling(request, refused, (driver, asked) => driver.dosePlate(asked)),
        ),
      );
    },

    async readPlate(input: ReadPlateInput): Promise<PlateStepReport<RawReadout>> {
      const { operationKey, ...header } = stepRequest(input, 'read');
      const wells = input.wells.map((w) => w.well);
      const base = { operationKey, ...header, wells, treatmentHours: input.treatmentHours };
      const uses = wellUses(input, input.wells, (_w, location) => ({
        step: 'measure',
        location,
        assay: input.assay,
      }));
      if (input.assay === 'imaging') {
        const { sitesPerWell, channels } = labConfig.imager;
        return run('imager', imagePlateSeconds(labConfig, wells.length), input, operationKey, uses, (refused) =>
          instruments.imager.imagePlate({
            ...base,
            wells: wells.filter((w) => !refused.has(w)),
            sitesPerWell,
            channels,
          }),
        );
      }
      const assay = input.assay;
      return run('plate-reader', readPlateSeconds(labConfig, wells.length), input, operationKey, uses, (refused) =>
        instruments.plateReader.readPlate({ ...base, wells: wells.filter((w) => !refused.has(w)), assay }),
      );
    },
  };
}

export type LabActivities = ReturnType<typeof createLabActivities>;

/** What every plate step's request begins with: its key (the same for every attempt), its plate and this attempt's number. */
function stepRequest(input: PlateStepInput, step: 'seed' | 'dose' | 'read') {
  return { operationKey: plateStepKey(input.plateId, step), plateId: input.plateId, attempt: stepAttempt(input) };
}

/** The plate a liquid handler is told it works on. */
function plateTypeOf(assay: Assay): 'imaging' | 'assay' {
  return assay === 'imaging' ? 'imaging' : 'assay';
}

/** Each well's use of stock at this step, charged to the well's experiment. */
function wellUses<W extends ForExperiment & { well: string }>(
  input: PlateStepInput,
  wells: readonly W[],
  use: (well: W, location: { plateId: string; well: string }) => StepUse,
): { use: StepUse; experimentWorkflowId: string; well: string }[] {
  return wells.map((w) => ({
    well: w.well,
    experimentWorkflowId: w.experimentWorkflowId,
    use: use(w, { plateId: input.plateId, well: w.well }),
  }));
}

/** A step the plate incubates after: it says when it ended (the plate's timer runs from then). */
function finished<T>(report: PlateStepReport<T>): PlateStepReport<T> {
  return { ...report, finishedAtMs: Date.now() };
}

/** The stock each dosed compound is drawn from (its concentration and lot), as the stockroom holds it. */
function stocksFor(inventory: InventoryStore, wells: readonly DoseWell[]): CompoundStock[] {
  const compounds = new Set(wells.map((w) => w.compound).filter((c) => c !== ''));
  if (compounds.size === 0) return [];
  return inventory
    .listItems()
    .filter((i) => compounds.has(i.item) && i.stockConcentrationMicromolar !== undefined)
    .map((i) => ({ compound: i.item, stockMicromolar: i.stockConcentrationMicromolar!, lot: i.lot ?? 'unknown' }));
}

/**
 * Holds the instrument's lease while the step runs, renewing it with every heartbeat. A renewal that fails (a busy lab file) skips
 * that beat rather than crashing the worker; the lease lasts LEASE_TTL_MS past the last renewal.
 */
async function withLease<T>(
  options: {
    guard: InstrumentGuard;
    instrument: OperationInstrument;
    capacity: number;
    operationKey: string;
    /** This attempt at the plate step (stepAttempt). */
    attempt: number;
    instruments: LabInstruments;
  },
  operation: () => Promise<T>,
): Promise<T> {
  const { guard, instrument, operationKey } = options;
  // The lease belongs to this attempt: an attempt that hung and finally ends frees only its own,
  // never the one its retry holds (the hung one lapses LEASE_TTL_MS after its last renewal).
  const holder = `${operationKey}#${options.attempt}`;
  try {
    guard.acquire(instrument, holder, options.capacity, LEASE_TTL_MS);
  } catch (err) {
    if (err instanceof InstrumentBusyError) throw ApplicationFailure.retryable(err.message, INSTRUMENT_BUSY);
    throw err;
  }
  const renew = () => {
    // A hung instrument gets no heartbeat, so the heartbeat timeout fires and the attempt is retried.
    if (options.instruments.responsive?.({ operationKey, attempt: options.attempt }) === false) return;
    heartbeat();
    try {
      guard.renew(instrument, holder, LEASE_TTL_MS);
    } catch {
      // The next beat renews it; a lease is never extended by a throw that kills the worker.
    }
  };
  const timer = setInterval(renew, 1_000);
  heartbeat();
  try {
    return await operation();
  } finally {
    clearInterval(timer);
    guard.release(instrument, holder);
  }
}

/**
 * Hardware faults as Temporal failures: an offline instrument or a shortage goes back to the plate
 * workflow (non-retryable here: it waits on a timer and says what it waits for); a permanent fault
 * of the whole step fails it (every well still on the plate then fails with its type); a transient
 * one is retried by the activity's policy. A driver error that names its own `type` and
 * `nonRetryable` keeps both.
 */
function asActivityFailure(err: unknown, instrument: OperationInstrument): unknown {
  if (!(err instanceof LabFault)) {
    // A driver's own typed error (the Opentrons driver's: protocol rejected, step refused, robot unavailable).
    const typed = err as { type?: unknown; nonRetryable?: unknown; message?: unknown };
    if (err instanceof Error && typeof typed.type === 'string')
      return ApplicationFailure.create({
        message: err.message,
        type: typed.type,
        nonRetryable: typed.nonRetryable === true,
      });
    return err;
  }
  if (err.type === INSTRUMENT_OFFLINE || err.type === OUT_OF_STOCK) {
    return ApplicationFailure.create({
      message: err.message,
      type: err.type,
      nonRetryable: true,
      details: [{ instrument: err.instrument ?? instrument, kind: err.type === OUT_OF_STOCK ? 'stock' : 'instrument' }],
    });
  }
  return err.permanent
    ? ApplicationFailure.nonRetryable(err.message, err.type)
    : ApplicationFailure.retryable(err.message, err.type);
}
