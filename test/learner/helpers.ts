import type { Observation } from '../../src/domain/types';
import { type RandomStream } from '../../src/learner/bayesian/rng';
import type { ProposeInput, ProposerSettings } from '../../src/learner/proposer';

/** Shared fixtures for the learner tests: a seeded synthetic 4PL pair and default settings. */

export interface Truth {
  log10Ic50: number;
  hill: number;
  top: number;
  bottom: number;
}

export function truthResponse(t: Truth, log10Dose: number): number {
  return t.bottom + (t.top - t.bottom) / (1 + Math.pow(10, t.hill * (log10Dose - t.log10Ic50)));
}

/** Multiplicative (log-normal) well noise with a small additive floor, as a luminescence read. */
export function noisyResponse(t: Truth, log10Dose: number, cv: number, rng: RandomStream): number {
  return truthResponse(t, log10Dose) * Math.exp(cv * rng.normal()) + 0.1 * cv * rng.normal();
}

export const STANDARD_MAX = 10;
export const STANDARD_MIN = 10 / 3 ** 7;

export function settings(overrides: Partial<ProposerSettings> = {}): ProposerSettings {
  return {
    cellLines: ['HeLa'],
    compounds: ['doxorubicin'],
    doseRange: { minMicromolar: STANDARD_MIN, maxMicromolar: STANDARD_MAX },
    assay: 'viability',
    objective: { type: 'ic50', halfWidthLog10: 0.1 },
    seed: 1,
    controlsPerLine: 2,
    ...overrides,
  };
}

/** An 8-point 1:3 series from the top of the range, `reps` replicates, on one plate. */
export function standardObservations(
  t: Truth,
  reps: number,
  cv: number,
  rng: RandomStream,
  cellLine = 'HeLa',
  compound = 'doxorubicin',
): Observation[] {
  const out: Observation[] = [];
  for (let r = 0; r < reps; r++)
    for (let k = 0; k < 8; k++) {
      const dose = STANDARD_MAX / 3 ** k;
      out.push({
        cellLine,
        compound,
        doseMicromolar: dose,
        response: noisyResponse(t, Math.log10(dose), cv, rng),
        plateId: 'p1',
        iteration: 0,
      });
    }
  return out;
}

export function inputFrom(
  s: ProposerSettings,
  observations: Observation[],
  extra: Partial<ProposeInput> = {},
): ProposeInput {
  return {
    settings: s,
    observations,
    triedDoses: observations.map((o) => ({
      cellLine: o.cellLine,
      compound: o.compound,
      doseMicromolar: o.doseMicromolar,
    })),
    iteration: 1,
    maxTreatments: 8,
    idPrefix: 'i1',
    ...extra,
  };
}
