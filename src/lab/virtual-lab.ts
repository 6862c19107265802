import { setTimeout as sleep } from 'node:timers/promises';
import { ASSAYS, type RawReadout } from '../domain/types';
import { measure, pipettingFactor, viableCellsAtRead, wellFractionAlive } from './biology';
import {
  type DoseReceipt,
  type DoseRequest,
  type LabDriver,
  LabFault,
  type ReadRequest,
  type SeedReceipt,
  type SeedRequest,
} from './driver';
import { LabStore, type WellRecord } from './lab-store';
import { isEdge } from './plate';
import { streamFor } from './rng';

/**
 * The virtual lab: a LabDriver whose physics is src/lab/biology.ts and whose memory is a SQLite
 * file. Every random draw is keyed by (labSeed, plate, well, step), and every time is a lab hour
 * handed over by the workflow, so readouts depend neither on wall-clock speed nor on the order or
 * number of worker processes sharing the file.
 */

export interface VirtualLabOptions {
  /** The lab's SQLite file; workers that share it share one physical lab. */
  dbPath: string;
  /** Real milliseconds each operation takes, to make instrument time visible in demos. */
  latencyMs?: number;
}

/**
 * Open the virtual lab on `dbPath`. Faults are injected per request: a transient instrument error
 * with probability `transientErrorRate` per attempt (thrown before anything changes, so a retry is
 * safe) and contamination with probability `contaminationRate` per well, found at read.
 */
export function createVirtualLab(options: VirtualLabOptions): LabDriver {
  const store = LabStore.open(options.dbPath);
  const latencyMs = options.latencyMs ?? 0;
  const pause = async () => {
    if (latencyMs > 0) await sleep(latencyMs);
  };

  return {
    async seed(request: SeedRequest): Promise<SeedReceipt> {
      await pause();
      const { location, simulation } = request;
      if (!Number.isFinite(request.cellsPerWell) || request.cellsPerWell <= 0)
        invalid(`cannot seed ${request.cellsPerWell} cells: cellsPerWell must be a positive number`);
      if (request.cellLine.trim() === '') invalid('cannot seed: cellLine is empty');
      return store.seed({
        operationKey: request.operationKey,
        location,
        labSeed: simulation.labSeed,
        cellLine: request.cellLine,
        volumeMicrolitres: request.volumeMicrolitres,
        biology: simulation.biology,
        faults: simulation.faults,
        act: () => {
          injectTransientFault(simulation.labSeed, simulation.faults.transientErrorRate, request);
          const noise = streamFor(simulation.labSeed, location.plateId, location.well, 'seed');
          return { cellsSeeded: Math.round(request.cellsPerWell * pipettingFactor(isEdge(location.well), noise)) };
        },
      });
    },

    async dose(request: DoseRequest): Promise<DoseReceipt> {
      await pause();
      const { location, compound, doseMicromolar } = request;
      if (!Number.isFinite(doseMicromolar) || doseMicromolar < 0)
        invalid(`cannot dose ${doseMicromolar} µM: doseMicromolar must be 0 (vehicle) or a positive number`);
      if (compound === '' && doseMicromolar > 0)
        invalid(`cannot dose ${doseMicromolar} µM of nothing: a vehicle control has compound "" and dose 0`);
      if (!Number.isFinite(request.attachmentHours) || request.attachmentHours < 0)
        invalid(`attachmentHours must be a non-negative number of lab hours (got ${request.attachmentHours})`);
      const response = request.simulation.response;
      if (doseMicromolar > 0 && !response) {
        const cells = store.getWell(location)?.cellLine ?? 'the cells';
        throw new LabFault(
          'UnknownBiology',
          `the lab profile defines no response of ${cells} in ${location.plateId}/${location.well} to ${compound}; ` +
            'refusing to invent one',
          true,
        );
      }
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
          const noise = streamFor(well.labSeed, location.plateId, location.well, 'dose');
          const deliveredDoseMicromolar = doseMicromolar * pipettingFactor(isEdge(location.well), noise);
          const fractionAlive = wellFractionAlive(deliveredDoseMicromolar, response, well.biology.bioCv, noise);
          return { deliveredDoseMicromolar, fractionAlive };
        },
      });
    },

    async read(request: ReadRequest): Promise<RawReadout> {
      await pause();
      const { location, assay, treatmentHours } = request;
      if (!ASSAYS.includes(assay)) invalid(`unknown assay "${assay}": expected one of ${ASSAYS.join(', ')}`);
      if (!Number.isFinite(treatmentHours) || treatmentHours < 0)
        invalid(`treatmentHours must be a non-negative number of lab hours (got ${treatmentHours})`);
      return store.read({
        operationKey: request.operationKey,
        location,
        assay,
        lytic: assay === 'viability',
        act: (well, readIndex) => {
          injectTransientFault(well.labSeed, well.faults.transientErrorRate, request);
          if (isContaminated(well))
            return {
              ok: false,
              fault: {
                type: 'Contamination',
                message: `well ${location.plateId}/${location.well} (${well.cellLine}) is contaminated`,
                permanent: true,
              },
            };
          return { ok: true, result: readWell(well, request, readIndex) };
        },
      });
    },

    async close(): Promise<void> {
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
  });
  // Keyed by read ordinal, not operation key, so the same experiment reads the same numbers
  // whatever ids the workflows that ran it had.
  const noise = streamFor(well.labSeed, well.plateId, well.well, 'read', readIndex);
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
  return streamFor(well.labSeed, well.plateId, well.well, 'contamination').chance(well.faults.contaminationRate);
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

function invalid(message: string): never {
  throw new LabFault('InvalidOperation', message, true);
}
