import { setTimeout as sleep } from 'node:timers/promises';
import { ASSAYS, type Assay, type RawReadout } from '../domain/types';
import { builtinLabConfig, type LabConfig } from '../config/lab-config';
import type {
  DosedWell,
  DosePlateRequest,
  ImagePlateRequest,
  ImagerDriver,
  LiquidHandlerDriver,
  PlateReaderDriver,
  PlateStepReport,
  PlateStepRequest,
  ReadPlateRequest,
  SeededWell,
  SeedPlateRequest,
  WellOutcome,
} from '../instruments/plate-driver';
import { dosePlateSeconds, imagePlateSeconds, readPlateSeconds, seedPlateSeconds } from '../instruments/plate-time';
import { measure, pipettingFactor, viableCellsAtRead, wellFractionAlive } from './biology';
import {
  type DoseReceipt,
  type DoseRequest,
  type FaultProfile,
  type LabDriver,
  LabFault,
  type ReadRequest,
  type SeedReceipt,
  type SeedRequest,
} from './driver';
import { AttemptClock, type AttemptContext, injectAttemptFaults, instrumentsFor, plateDrop } from './faults';
import { LabStore, type OperationKind, type StoredFault, type WellRecord } from './lab-store';
import { isEdge } from './plate';
import { builtinLabProfile, pairResponse, type LabProfile } from '../config/lab-profile';
import { UNKNOWN_BIOLOGY } from '../domain/failures';
import { streamFor } from './rng';

/**
 * The virtual lab: a LabDriver whose physics is src/lab/biology.ts and whose memory is a SQLite
 * file. Every random draw is keyed by (labSeed, logical plate, well, step), and every time is a
 * lab hour handed over by the workflow, so readouts depend neither on wall-clock speed nor on the
 * order or number of worker processes sharing the file. The logical plate is the seed request's
 * `plateNoiseKey` when given ("<campaign>/p003"), so rerunning a campaign on new physical plates
 * reads the same numbers.
 */

export interface VirtualLabOptions {
  /** The lab's SQLite file; workers that share it share one physical lab. */
  dbPath: string;
  /** The lab's world: cell lines, response models, faults (default: the built-in profile). */
  profile?: LabProfile;
  /** Real milliseconds each operation takes, to make instrument time visible in demos. */
  latencyMs?: number;
  /** The instruments' timings, for the instrument time a plate step reports (default: the built-in lab). */
  labConfig?: LabConfig;
}

/** The virtual lab serves every instrument: per well (LabDriver) and by plate step. */
export interface VirtualLab extends LabDriver, LiquidHandlerDriver, PlateReaderDriver, ImagerDriver {
  close(): Promise<void>;
}

/**
 * Open the virtual lab on `dbPath`. Faults are injected per request from the well's fault profile
 * (faults.ts): an instrument switched off refuses; per instrument, an attempt may find it going
 * offline, hanging, slow or failing transiently, all before anything physical happens, so a retry
 * is safe; a plate may be dropped and a culture found contaminated at read (permanent, logged
 * with the operation). An operation that already ran answers with its first outcome, untouched.
 */
export function createVirtualLab(options: VirtualLabOptions): VirtualLab {
  const store = LabStore.open(options.dbPath);
  const profile = options.profile ?? builtinLabProfile();
  const labSeed = profile.noiseSeed;
  const faults = profile.faults;
  const clock = new AttemptClock();
  const latencyMs = options.latencyMs ?? 0;
  const labConfig = options.labConfig ?? builtinLabConfig();
  const pause = async () => {
    if (latencyMs > 0) await sleep(latencyMs);
  };
  /** Attempt-level faults, unless the operation already ran (then it only looks its outcome up). */
  const instrumentsFit = async (
    context: Omit<AttemptContext, 'labSeed' | 'faults'>,
    well: { labSeed: number; faults: FaultProfile } | undefined,
    assay?: Assay,
  ) => {
    if (store.getOperation(context.operationKey)) return;
    const faults = well?.faults ?? NO_FAULTS;
    await injectAttemptFaults(
      store,
      clock,
      { ...context, labSeed: well?.labSeed ?? 0, faults },
      instrumentsFor(context.kind, assay),
    );
  };
  /** The permanent fault of a dropped plate, logged with the operation inside its transaction. */
  const dropped = (
    well: { labSeed: number; faults: FaultProfile; noiseKey: string; plateId: string; well: string },
    kind: OperationKind,
    request: { operationKey: string; attempt: number },
    assay?: Assay,
  ): StoredFault | undefined => {
    const drop = plateDrop({ ...well, kind }, instrumentsFor(kind, assay));
    if (drop)
      store.recordFault({
        kind: 'plate drop',
        instrument: drop.instrument,
        operationKey: request.operationKey,
        attempt: request.attempt,
        plateId: well.plateId,
        well: well.well,
      });
    return drop?.fault;
  };

  const seed = async (request: SeedRequest, attemptFaults = true): Promise<SeedReceipt> => {
    await pause();
    const { location } = request;
    if (!Number.isFinite(request.cellsPerWell) || request.cellsPerWell <= 0)
      invalid(`cannot seed ${request.cellsPerWell} cells: cellsPerWell must be a positive number`);
    if (request.cellLine.trim() === '') invalid('cannot seed: cellLine is empty');
    const biology = profile.cellLines[request.cellLine];
    if (!biology)
      throw new LabFault(
        UNKNOWN_BIOLOGY,
        `the lab profile "${profile.name}" has no cell line ${request.cellLine}; refusing to invent one (known: ${Object.keys(profile.cellLines).join(', ')})`,
        true,
      );
    const noiseKey = request.plateLabel ?? location.plateId;
    const context = { ...request, ...location, kind: 'seed' as const };
    if (attemptFaults) await instrumentsFit(context, { labSeed, faults });
    return store.seed({
      operationKey: request.operationKey,
      location,
      noiseKey: request.plateLabel,
      labSeed,
      cellLine: request.cellLine,
      volumeMicrolitres: request.volumeMicrolitres,
      biology,
      faults,
      act: () => {
        injectTransientFault(labSeed, faults.transientErrorRate, request);
        const fault = dropped({ labSeed, faults, ...location, noiseKey }, 'seed', request);
        if (fault) return { ok: false, fault };
        const noise = streamFor(labSeed, noiseKey, location.well, 'seed');
        const cellsSeeded = Math.round(request.cellsPerWell * pipettingFactor(isEdge(location.well), noise));
        return { ok: true, result: { cellsSeeded } };
      },
    });
  };

  const dose = async (request: DoseRequest, attemptFaults = true): Promise<DoseReceipt> => {
    await pause();
    const { location, compound, doseMicromolar } = request;
    if (!Number.isFinite(doseMicromolar) || doseMicromolar < 0)
      invalid(`cannot dose ${doseMicromolar} µM: doseMicromolar must be 0 (vehicle) or a positive number`);
    if (compound === '' && doseMicromolar > 0)
      invalid(`cannot dose ${doseMicromolar} µM of nothing: a vehicle control has compound "" and dose 0`);
    if (!Number.isFinite(request.attachmentHours) || request.attachmentHours < 0)
      invalid(`attachmentHours must be a non-negative number of lab hours (got ${request.attachmentHours})`);
    const cells = store.getWell(location)?.cellLine;
    const response = cells && compound !== '' ? pairResponse(profile, cells, compound) : undefined;
    // An unseeded well is refused by the store (never seeded); a seeded one needs a model for the pair.
    if (cells && doseMicromolar > 0 && !response && !store.getOperation(request.operationKey)) {
      throw new LabFault(
        UNKNOWN_BIOLOGY,
        `the lab profile "${profile.name}" has no response model for ${cells} × ${compound} ` +
          `(${location.plateId}/${location.well}); refusing to invent one`,
        true,
      );
    }
    if (attemptFaults) await instrumentsFit({ ...request, ...location, kind: 'dose' }, store.getWell(location));
    return store.dose({
      operationKey: request.operationKey,
      location,
      compound,
      doseMicromolar,
      volumeMicrolitres: request.volumeMicrolitres,
      attachmentHours: request.attachmentHours,
      response,
      act: (well) => {
        injectTransientFault(well.labSeed, well.faults.transientErrorRate, request);
        const fault = dropped(well, 'dose', request);
        if (fault) return { ok: false, fault };
        const noise = streamFor(well.labSeed, well.noiseKey, location.well, 'dose');
        const deliveredDoseMicromolar = doseMicromolar * pipettingFactor(isEdge(location.well), noise);
        const fractionAlive = wellFractionAlive(deliveredDoseMicromolar, response, well.biology.bioCv, noise);
        return { ok: true, result: { deliveredDoseMicromolar, fractionAlive } };
      },
    });
  };

  const read = async (request: ReadRequest, attemptFaults = true): Promise<RawReadout> => {
    await pause();
    const { location, assay, treatmentHours } = request;
    if (!ASSAYS.includes(assay)) invalid(`unknown assay "${assay}": expected one of ${ASSAYS.join(', ')}`);
    if (!Number.isFinite(treatmentHours) || treatmentHours < 0)
      invalid(`treatmentHours must be a non-negative number of lab hours (got ${treatmentHours})`);
    if (attemptFaults) await instrumentsFit({ ...request, ...location, kind: 'read' }, store.getWell(location), assay);
    return store.read({
      operationKey: request.operationKey,
      location,
      assay,
      lytic: assay === 'viability',
      act: (well, readIndex) => {
        injectTransientFault(well.labSeed, well.faults.transientErrorRate, request);
        const fault = dropped(well, 'read', request, assay);
        if (fault) return { ok: false, fault };
        if (isContaminated(well)) {
          store.recordFault({ ...request, ...location, kind: 'contamination', instrument: 'incubator' });
          return {
            ok: false,
            fault: {
              type: 'Contamination',
              message: `well ${location.plateId}/${location.well} (${well.cellLine}) is contaminated`,
              permanent: true,
            },
          };
        }
        return { ok: true, result: readWell(well, request, readIndex) };
      },
    });
  };

  /**
   * A plate step: the attempt-level faults of its instruments once for the whole run (keyed by
   * the step's operation key), then each well under its own key `<step key>/<well>`, so a run cut
   * short (a crash, a transient error halfway) is finished by its retry without redoing a well.
   * A well's permanent fault (a dropped plate, contamination, an unknown pair) is that well's
   * outcome; anything else fails the attempt, which the activity retries.
   */
  const plateStep = async <T>(
    request: PlateStepRequest,
    kind: OperationKind,
    wells: readonly string[],
    seconds: number,
    assay: Assay | undefined,
    one: (well: string, operationKey: string) => Promise<T>,
  ): Promise<PlateStepReport<T>> => {
    const first = wells[0];
    if (first === undefined) invalid(`plate step ${request.operationKey} names no wells`);
    const duplicate = wells.find((w, i) => wells.indexOf(w) !== i);
    if (duplicate) invalid(`plate step ${request.operationKey} names well ${duplicate} twice`);
    const anyDone = wells.some((w) => store.getOperation(wellKey(request.operationKey, w)));
    if (!anyDone)
      await instrumentsFit(
        { operationKey: request.operationKey, attempt: request.attempt, kind, plateId: request.plateId, well: '*' },
        kind === 'seed' ? { labSeed, faults } : store.getWell({ plateId: request.plateId, well: first }),
        assay,
      );
    const outcomes: WellOutcome<T>[] = [];
    for (const well of wells) {
      try {
        outcomes.push({ well, ok: true, value: await one(well, wellKey(request.operationKey, well)) });
      } catch (err) {
        if (!(err instanceof LabFault) || !err.permanent) throw err;
        outcomes.push({ well, ok: false, failure: { type: err.type, message: err.message } });
      }
    }
    return { operationKey: request.operationKey, wells: outcomes, instrumentSeconds: seconds };
  };

  return {
    seed: (request) => seed(request),
    dose: (request) => dose(request),
    read: (request) => read(request),

    seedPlate(request: SeedPlateRequest): Promise<PlateStepReport<SeededWell>> {
      const wells = request.wells.map((w) => w.well);
      return plateStep(request, 'seed', wells, seedPlateSeconds(labConfig, request.wells), undefined, (well, key) => {
        const w = request.wells.find((x) => x.well === well)!;
        return seed(
          {
            operationKey: key,
            location: { plateId: request.plateId, well },
            cellLine: w.cellLine,
            cellsPerWell: w.cellsPerWell,
            volumeMicrolitres: w.volumeMicrolitres,
            attempt: request.attempt,
            plateLabel: request.plateLabel,
          },
          false,
        );
      });
    },

    dosePlate(request: DosePlateRequest): Promise<PlateStepReport<DosedWell>> {
      const wells = request.wells.map((w) => w.well);
      return plateStep(request, 'dose', wells, dosePlateSeconds(labConfig, request.wells), undefined, (well, key) => {
        const w = request.wells.find((x) => x.well === well)!;
        return dose(
          {
            operationKey: key,
            location: { plateId: request.plateId, well },
            compound: w.compound,
            doseMicromolar: w.doseMicromolar,
            volumeMicrolitres: w.volumeMicrolitres,
            attachmentHours: request.attachmentHours,
            attempt: request.attempt,
          },
          false,
        );
      });
    },

    readPlate(request: ReadPlateRequest): Promise<PlateStepReport<RawReadout>> {
      const seconds = readPlateSeconds(labConfig, request.wells.length);
      return plateStep(request, 'read', request.wells, seconds, request.assay, (well, key) =>
        read(readRequest(request, well, key, request.assay), false),
      );
    },

    imagePlate(request: ImagePlateRequest): Promise<PlateStepReport<RawReadout>> {
      const seconds = imagePlateSeconds(labConfig, request.wells.length);
      return plateStep(request, 'read', request.wells, seconds, 'imaging', (well, key) =>
        read(readRequest(request, well, key, 'imaging'), false),
      );
    },

    responsive({ operationKey, attempt }): boolean {
      return !clock.isHung(operationKey, attempt);
    },

    async close(): Promise<void> {
      clock.close();
      store.close();
    },
  };
}

/** Simulate the culture up to the read and put it through the instrument. */
function readWell(well: WellRecord, request: ReadRequest, readIndex: number): RawReadout {
  const edge = isEdge(well.well);
  const fractionAlive = well.fractionAlive ?? 1;
  const viableCells = viableCellsAtRead({
    cellsSeeded: well.cellsSeeded,
    biology: well.biology,
    edge,
    attachmentHours: well.attachmentHours ?? 0,
    treatmentHours: request.treatmentHours,
    fractionAlive,
    referenceHours: well.response?.referenceHours,
  });
  // Keyed by read ordinal, not operation key, so the same experiment reads the same numbers
  // whatever ids the workflows that ran it had.
  const noise = streamFor(well.labSeed, well.noiseKey, well.well, 'read', readIndex);
  return measure({
    assay: request.assay,
    viableCells,
    biology: well.biology,
    edge,
    fractionAlive,
    treatmentHours: request.treatmentHours,
    noise,
  });
}

/** Contamination is a property of the culture, so it is drawn once per well, not per attempt. */
function isContaminated(well: WellRecord): boolean {
  return streamFor(well.labSeed, well.noiseKey, well.well, 'contamination').chance(well.faults.contaminationRate);
}

/**
 * A transient instrument error, drawn per (operation key, attempt): the same attempt always fails
 * or succeeds the same way, and a retry gets a fresh draw. Thrown inside the store's transaction
 * before anything is written, so the failed attempt leaves no trace.
 */
function injectTransientFault(labSeed: number, rate: number, request: { operationKey: string; attempt: number }): void {
  if (rate > 0 && streamFor(labSeed, 'transient', request.operationKey, request.attempt).chance(rate))
    throw new LabFault(
      'InstrumentFault',
      `transient instrument error on ${request.operationKey} (attempt ${request.attempt}); retry`,
      false,
    );
}

const NO_FAULTS: FaultProfile = { contaminationRate: 0, transientErrorRate: 0 };

/** The key of one well's operation within a plate step: `<step key>/<well>`. */
export function wellKey(plateStepKey: string, well: string): string {
  return `${plateStepKey}/${well}`;
}

function readRequest(
  request: ReadPlateRequest | ImagePlateRequest,
  well: string,
  operationKey: string,
  assay: Assay,
): ReadRequest {
  return {
    operationKey,
    location: { plateId: request.plateId, well },
    assay,
    treatmentHours: request.treatmentHours,
    attempt: request.attempt,
  };
}

function invalid(message: string): never {
  throw new LabFault('InvalidOperation', message, true);
}
