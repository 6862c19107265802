import type { Observation } from '../../src/domain/types';
import { createBayesianProposer } from '../../src/learner/bayesian/index';
import type { ProposerSettings } from '../../src/learner/proposer';
import { leastSquares4pl } from './least-squares';
import { RANGE_LOG10, RANGE_MAX_UM, RANGE_MIN_UM } from './scenarios';

/**
 * Score a finished design the same way for every arm: the learner's Bayesian posterior (the same
 * model the learner uses to choose doses) and plain least squares.
 */

export const BENCH_LINE = 'L';
export const BENCH_COMPOUND = 'C';

/** Single-curve arms may run to the benchmark's 48-well cap, like the oracle and standard ×6. */
export const benchProposer = createBayesianProposer({ maxWellsPerPair: 48 });
/** The fixed-budget arm spends exactly its 12 wells, whatever the goal. */
export const budgetProposer = createBayesianProposer({ maxWellsPerPair: 48, stopWhenOutOfReach: false });
/** The portfolio runs the learner as shipped (at most 24 wells per pair, the standard design's count). */
export const portfolioProposer = createBayesianProposer();

export function curveSettings(
  seed: number,
  halfWidthLog10: number,
  rangeExtensionFactor: number,
  controlsPerLine: number,
): ProposerSettings {
  return {
    cellLines: [BENCH_LINE],
    compounds: [BENCH_COMPOUND],
    doseRange: { minMicromolar: RANGE_MIN_UM, maxMicromolar: RANGE_MAX_UM },
    assay: 'viability',
    objective: { type: 'ic50', halfWidthLog10 },
    seed,
    controlsPerLine,
    rangeExtensionFactor,
  };
}

export interface FitScore {
  median: number;
  lo: number;
  hi: number;
  state: string;
  lsLog10Ic50: number;
  lsFailed: boolean;
}

export function scoreDesign(
  observations: Observation[],
  controls: Observation[],
  seed: number,
  rangeExtensionFactor: number,
  controlsPerLine: number,
): FitScore {
  const settings = curveSettings(seed, 0.1, rangeExtensionFactor, controlsPerLine);
  // One pair at a time: whatever the design called its line and compound, score it as the bench pair.
  const rename = (o: Observation): Observation => ({
    ...o,
    cellLine: BENCH_LINE,
    compound: o.doseMicromolar > 0 ? BENCH_COMPOUND : '',
  });
  const analysis = benchProposer.analyse({
    settings,
    observations: observations.map(rename),
    controlObservations: controls.map(rename),
    triedDoses: [],
    iteration: 0,
    maxTreatments: 0,
    idPrefix: 'score',
  });
  const s = analysis.pairs[0]!.summary;
  const x = Float64Array.from(observations, (o) => Math.log10(o.doseMicromolar));
  const y = Float64Array.from(observations, (o) => o.response);
  const ls = leastSquares4pl(x, y, RANGE_LOG10);
  return {
    median: s.log10Ic50.median,
    lo: s.log10Ic50.lo,
    hi: s.log10Ic50.hi,
    state: s.state,
    lsLog10Ic50: ls.log10Ic50,
    lsFailed: ls.failed,
  };
}
