import type { Objective } from '../config/campaign-config';
import type { Assay, Observation, PairEstimate, Proposal } from '../domain/types';

/**
 * The learner boundary. The campaign workflow hands a proposer everything it has learnt so far
 * and gets back the next batch. Proposers are pure and deterministic for the same input (seed
 * included), which is what lets them run in an activity whose result Temporal records once.
 */
export interface Proposer {
  propose(input: ProposeInput): ProposeOutput;
}

export interface ProposerSettings {
  /**
   * The campaign's questions: the learner works on these pairs only, each within its own dose
   * range. Absent (older callers): every line × every compound over `doseRange`.
   */
  pairs?: { cellLine: string; compound: string; doseRange?: DoseRange }[];
  cellLines: string[];
  compounds: string[];
  /** The default dose range (the widest over the pairs). */
  doseRange: DoseRange;
  assay: Assay;
  objective: Objective;
  seed: number;
  /** Vehicle-control wells per cell line in every batch (added on top of the treatment wells). */
  controlsPerLine: number;
  /**
   * Optional: the learner may go beyond the dose range by up to this factor (e.g. 3 allows
   * max × 3 and min / 3) for a pair whose IC50 looks to lie outside it. Absent or 1: never.
   */
  rangeExtensionFactor?: number;
  /** Optional: the most treatment wells one pair may use (rejected wells do not count). Absent: the proposer's own cap. */
  maxWellsPerPair?: number;
}

export interface DoseRange {
  minMicromolar: number;
  maxMicromolar: number;
}

/** The pairs a proposer works on, each with its dose range resolved. */
export function settingsPairs(
  settings: ProposerSettings,
): { cellLine: string; compound: string; doseRange: DoseRange }[] {
  if (settings.pairs)
    return settings.pairs.map((p) => ({
      cellLine: p.cellLine,
      compound: p.compound,
      doseRange: p.doseRange ?? settings.doseRange,
    }));
  return settings.cellLines.flatMap((cellLine) =>
    settings.compounds.map((compound) => ({ cellLine, compound, doseRange: settings.doseRange })),
  );
}

export interface ProposeInput {
  settings: ProposerSettings;
  /** Successful, normalised treatment observations so far (failed experiments are excluded). */
  observations: Observation[];
  /**
   * Optional: normalised vehicle-control responses (≈1, `doseMicromolar: 0`), whose scatter within
   * a plate tells the Bayesian learner how noisy wells are.
   */
  controlObservations?: Observation[];
  /**
   * Every treatment dose already run, running or rejected per pair, to avoid duplicates. Rejected
   * ones (`rejected: true`) are never proposed again but do not count toward a pair's well cap.
   */
  triedDoses: { cellLine: string; compound: string; doseMicromolar: number; rejected?: boolean }[];
  iteration: number;
  /** Maximum number of treatment wells in this batch. */
  maxTreatments: number;
  /** Prefix for proposal ids, unique per batch (e.g. "i3"). */
  idPrefix: string;
}

export interface ProposeOutput {
  /** Treatment proposals first in order of value, then vehicle controls for the lines used. */
  proposals: Proposal[];
  estimates: PairEstimate[];
  /**
   * Set when no pair is left to work on: `goal reached` when every pair is answered (an estimate
   * within its goal, or declared inactive / out of range), `pairs settled` when some stopped short
   * (well cap, no untried doses). The detail names every pair's state.
   */
  finished?: { reason: 'goal reached' | 'pairs settled'; detail: string };
}
