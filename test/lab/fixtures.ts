import type { WellOutcome } from '../../src/instruments/plate-driver';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { builtinLabProfile, pairResponse, type LabProfile, type PairResponse } from '../../src/config/lab-profile';
import type { Assay, RawReadout } from '../../src/domain/types';
import type { FaultProfile, LabDriver } from '../../src/lab/driver';
import { type VirtualLab, createVirtualLab } from '../../src/lab/virtual-lab';

/**
 * Shared set-up for the lab tests: temp files, the built-in biology, labs with a profile of the
 * test's own (noise seed, faults, curves), and a one-call experiment. The lab's ground truth lives
 * in its profile: a request names only the cells, the compound and the quantities.
 */

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

/** The built-in profile's curve for a pair (what the default lab simulates it from). */
export function truthOf(cellLine: string, compound: string): PairResponse {
  const response = pairResponse(PROFILE, cellLine, compound);
  if (!response) throw new Error(`test asked for unknown pair ${cellLine} × ${compound}`);
  return response;
}

/** What a test changes of the built-in lab. */
export interface LabWorld {
  /** The profile to start from (default: the built-in one). */
  profile?: LabProfile;
  noiseSeed?: number;
  faults?: FaultProfile;
}

/** The built-in profile (or `world.profile`) with the world's noise seed and faults. */
export function profileWith(world: LabWorld = {}): LabProfile {
  const base = world.profile ?? builtinLabProfile();
  return {
    ...base,
    ...(world.noiseSeed === undefined ? {} : { noiseSeed: world.noiseSeed }),
    ...(world.faults === undefined ? {} : { faults: world.faults as LabProfile['faults'] }),
  };
}

/**
 * `profile` with the (line, compound) curve set to `response` (`undefined` removes it, so the lab
 * has no response model for the pair). A compound the profile lacks is added with the catalogue
 * entry of staurosporine.
 */
export function withPair(
  profile: LabProfile,
  cellLine: string,
  compound: string,
  response: PairResponse | undefined,
): LabProfile {
  const entry = profile.compounds[compound] ?? { ...PROFILE.compounds.staurosporine!, responses: {} };
  const { [cellLine]: _dropped, ...others } = entry.responses;
  const responses = response ? { ...others, [cellLine]: response } : others;
  return { ...profile, compounds: { ...profile.compounds, [compound]: { ...entry, responses } } };
}

/** A virtual lab on `dbPath` whose profile is the built-in one changed as `world` says. */
export function labWith(dbPath: string, world: LabWorld = {}, latencyMs?: number): VirtualLab {
  return createVirtualLab({ dbPath, profile: profileWith(world), latencyMs });
}

export interface WellPlan {
  plateId: string;
  well: string;
  cellLine: string;
  /** '' for vehicle. */
  compound: string;
  doseMicromolar: number;
  assay: Assay;
  treatmentHours?: number;
  /** Prefix of the operation keys, to run the same well under different workflow ids. */
  keyPrefix?: string;
  /** Logical plate label that keys the lab's noise (SeedRequest.plateLabel; default: the plate id). */
  plateLabel?: string;
}

/** The operation keys the plan's three steps use. */
export function keysOf(plan: WellPlan) {
  const base = `${plan.keyPrefix ?? 'wf'}/${plan.plateId}/${plan.well}`;
  return { seed: `${base}:seed`, dose: `${base}:dose`, read: `${base}:read` };
}

/** Cells a plan seeds: the DOMAIN.md protocol's 10,000, or 5,000 for imaging. */
export function cellsPerWellOf(plan: Pick<WellPlan, 'assay'>): number {
  return plan.assay === 'imaging' ? 5_000 : 10_000;
}

/** Seed, dose and read one well with the DOMAIN.md protocol (10,000 cells or 5,000 for imaging; 4 h; 24/48 h). */
export async function runWell(lab: LabDriver, plan: WellPlan): Promise<RawReadout> {
  const keys = keysOf(plan);
  const location = { plateId: plan.plateId, well: plan.well };
  await lab.seed({
    operationKey: keys.seed,
    location,
    cellLine: plan.cellLine,
    cellsPerWell: cellsPerWellOf(plan),
    volumeMicrolitres: 100,
    attempt: 1,
    plateLabel: plan.plateLabel,
  });
  await lab.dose({
    operationKey: keys.dose,
    location,
    compound: plan.compound,
    doseMicromolar: plan.doseMicromolar,
    volumeMicrolitres: 10,
    attachmentHours: 4,
    attempt: 1,
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

/**
 * Seed, dose and read the planned wells of one plate as three plate steps (keys `<plate>/seed`,
 * `<plate>/dose`, `<plate>/read`), as the plate workflow has the lab do it. Returns each well's
 * readout, or its failure, by well name.
 */
export async function runPlate(lab: VirtualLab, plans: WellPlan[]): Promise<Map<string, WellOutcome<RawReadout>>> {
  const plateId = plans[0]!.plateId;
  const assay = plans[0]!.assay;
  await lab.seedPlate({
    operationKey: `${plateId}/seed`,
    plateId,
    attempt: 1,
    plateType: assay === 'imaging' ? 'imaging' : 'assay',
    plateLabel: plans[0]!.plateLabel ?? plateId,
    wells: plans.map((p) => ({
      well: p.well,
      cellLine: p.cellLine,
      cellsPerWell: cellsPerWellOf(p),
      volumeMicrolitres: 100,
    })),
  });
  await lab.dosePlate({
    operationKey: `${plateId}/dose`,
    plateId,
    attempt: 1,
    attachmentHours: 4,
    stocks: [],
    wells: plans.map((p) => ({
      well: p.well,
      compound: p.compound,
      doseMicromolar: p.doseMicromolar,
      volumeMicrolitres: 10,
    })),
  });
  const treatmentHours = plans[0]!.treatmentHours ?? (assay === 'imaging' ? 48 : 24);
  const request = {
    operationKey: `${plateId}/read`,
    plateId,
    attempt: 1,
    wells: plans.map((p) => p.well),
    treatmentHours,
  };
  const read =
    assay === 'imaging'
      ? await lab.imagePlate({ ...request, sitesPerWell: 4, channels: 2 })
      : await lab.readPlate({ ...request, assay });
  return new Map(read.wells.map((w) => [w.well, w]));
}
