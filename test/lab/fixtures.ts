import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { builtinLabProfile } from '../../src/config/lab-profile';
import type { Assay, RawReadout } from '../../src/domain/types';
import type { FaultProfile, LabDriver, PairResponseTruth } from '../../src/lab/driver';

/** Shared set-up for the lab tests: temp files, the built-in biology, and a one-call experiment. */

export const PROFILE = builtinLabProfile();
export const NO_FAULTS: FaultProfile = { contaminationRate: 0, transientErrorRate: 0 };

/** A fresh SQLite path in its own temp directory (the directory itself is created by the store). */
export function tempDbPath(name = 'lab'): string {
  return join(mkdtempSync(join(tmpdir(), 'cellos-lab-test-')), 'nested', `${name}.db`);
}

export function biologyOf(cellLine: string) {
  const biology = PROFILE.cellLines[cellLine];
  if (!biology) throw new Error(`test asked for unknown line ${cellLine}`);
  return biology;
}

export function truthOf(cellLine: string, compound: string): PairResponseTruth {
  const c = PROFILE.compounds[compound];
  const ic50Micromolar = c?.ic50Micromolar[cellLine];
  if (!c || ic50Micromolar === undefined) throw new Error(`test asked for unknown pair ${cellLine} × ${compound}`);
  return { ic50Micromolar, hillSlope: c.hillSlope, top: c.top, bottom: c.bottom };
}

export interface WellPlan {
  plateId: string;
  well: string;
  cellLine: string;
  /** '' for vehicle. */
  compound: string;
  doseMicromolar: number;
  assay: Assay;
  labSeed?: number;
  faults?: FaultProfile;
  treatmentHours?: number;
  /** Prefix of the operation keys, to run the same well under different workflow ids. */
  keyPrefix?: string;
  /** Logical plate for the simulator's noise (SeedRequest.simulation.plateNoiseKey). */
  noiseKey?: string;
}

/** The operation keys the plan's three steps use. */
export function keysOf(plan: WellPlan) {
  const base = `${plan.keyPrefix ?? 'wf'}/${plan.plateId}/${plan.well}`;
  return { seed: `${base}:seed`, dose: `${base}:dose`, read: `${base}:read` };
}

/** Seed, dose and read one well with the DOMAIN.md protocol (10,000 cells or 5,000 for imaging; 4 h; 24/48 h). */
export async function runWell(lab: LabDriver, plan: WellPlan): Promise<RawReadout> {
  const keys = keysOf(plan);
  const location = { plateId: plan.plateId, well: plan.well };
  await lab.seed({
    operationKey: keys.seed,
    location,
    cellLine: plan.cellLine,
    cellsPerWell: plan.assay === 'imaging' ? 5_000 : 10_000,
    volumeMicrolitres: 100,
    attempt: 1,
    simulation: {
      labSeed: plan.labSeed ?? 42,
      biology: biologyOf(plan.cellLine),
      faults: plan.faults ?? NO_FAULTS,
      plateNoiseKey: plan.noiseKey,
    },
  });
  await lab.dose({
    operationKey: keys.dose,
    location,
    compound: plan.compound,
    doseMicromolar: plan.doseMicromolar,
    volumeMicrolitres: 10,
    attachmentHours: 4,
    attempt: 1,
    simulation: plan.compound === '' ? {} : { response: truthOf(plan.cellLine, plan.compound) },
  });
  return lab.read({
    operationKey: keys.read,
    location,
    assay: plan.assay,
    treatmentHours: plan.treatmentHours ?? (plan.assay === 'imaging' ? 48 : 24),
    attempt: 1,
  });
}

export function mean(values: number[]): number {
  return values.reduce((sum, v) => sum + v, 0) / values.length;
}
