import type { Observation } from '../../src/domain/types';
import { RandomStream, seedFrom } from '../../src/learner/bayesian/rng';
import type { ProposeInput } from '../../src/learner/proposer';
import {
  BENCH_COMPOUND,
  BENCH_LINE,
  benchProposer,
  budgetProposer,
  curveSettings,
  scoreDesign,
  type FitScore,
} from './fit';
import { RANGE_LOG10, drawCurve, type CurveScenario } from './scenarios';
import { runPlate, type PlateWell, type TrueCurve } from './simulator';

/**
 * One ground-truth curve through every arm of the benchmark. Arms share the truth and the plate
 * seeds: round r of every arm runs on a plate drawn from the same seed, so plate effects, layout
 * and the k-th well's noise draw are common, and differences come from the designs.
 */

export const GOAL_HALF_WIDTH = 0.1;
export const LEARNER_FIRST_ROUND = 6;
export const LEARNER_ROUND = 3;
export const LEARNER_BUDGET = 12;
export const LEARNER_BUDGET_CEILING = 16;
export const WELL_CAP = 48;

export interface ArmScore {
  arm: string;
  wells: number;
  fit: FitScore;
  rounds: number;
  /** Wells at which the 95% interval first reached ±0.1 (undefined: not within the cap). */
  wellsToGoal?: number;
  batchMs?: number[];
}

export interface CurveResult {
  scenario: string;
  index: number;
  truth: TrueCurve;
  arms: ArmScore[];
}

const halfWidth = (f: FitScore): number => (f.hi - f.lo) / 2;

function wellsFor(truth: TrueCurve, log10Doses: number[]): PlateWell[] {
  return log10Doses.map((x) => ({ cellLine: BENCH_LINE, compound: BENCH_COMPOUND, log10Dose: x, truth }));
}

/** A non-adaptive design on one plate, scored on every prefix length asked for. */
function nestedDesign(
  name: string,
  doses: number[],
  prefixes: number[],
  truth: TrueCurve,
  scenario: CurveScenario,
  curveSeed: number,
  stopAtGoal: boolean,
): { scores: Map<number, FitScore>; wellsToGoal?: number } {
  const plate = runPlate(
    wellsFor(truth, doses),
    [BENCH_LINE],
    scenario.noise,
    `${name}-p0`,
    seedFrom(curveSeed, 'plate', 0),
    0,
  );
  const scores = new Map<number, FitScore>();
  let wellsToGoal: number | undefined;
  for (const n of prefixes) {
    const fit = scoreDesign(
      plate.observations.slice(0, n),
      plate.controls,
      curveSeed,
      scenario.rangeExtensionFactor,
      scenario.noise.controlsPerLine,
    );
    scores.set(n, fit);
    if (wellsToGoal === undefined && halfWidth(fit) <= GOAL_HALF_WIDTH) {
      wellsToGoal = n;
      if (stopAtGoal) break;
    }
  }
  return { scores, ...(wellsToGoal !== undefined ? { wellsToGoal } : {}) };
}

export function runLearner(
  truth: TrueCurve,
  scenario: CurveScenario,
  curveSeed: number,
  mode: 'budget' | 'goal',
  schedule = { first: LEARNER_FIRST_ROUND, round: LEARNER_ROUND },
  budget = LEARNER_BUDGET,
): ArmScore {
  const settings = curveSettings(
    curveSeed,
    mode === 'budget' ? 1e-3 : GOAL_HALF_WIDTH,
    scenario.rangeExtensionFactor,
    scenario.noise.controlsPerLine,
  );
  const observations: Observation[] = [];
  const controls: Observation[] = [];
  const tried: ProposeInput['triedDoses'] = [];
  const batchMs: number[] = [];
  let wells = 0;
  let rounds = 0;
  let finished = false;
  const cap = mode === 'budget' ? budget : WELL_CAP;
  while (wells < cap) {
    const size = Math.min(cap - wells, rounds === 0 ? schedule.first : schedule.round);
    const t0 = performance.now();
    const out = (mode === 'budget' ? budgetProposer : benchProposer).propose({
      settings,
      observations,
      controlObservations: controls,
      triedDoses: tried,
      iteration: rounds,
      maxTreatments: size,
      idPrefix: `i${rounds}`,
    });
    batchMs.push(performance.now() - t0);
    if (out.finished) {
      finished = true;
      break;
    }
    const treatments = out.proposals.filter((p) => !p.isControl);
    if (treatments.length === 0) break;
    const plate = runPlate(
      wellsFor(
        truth,
        treatments.map((p) => Math.log10(p.doseMicromolar)),
      ),
      [BENCH_LINE],
      scenario.noise,
      `learner-p${rounds}`,
      seedFrom(curveSeed, 'plate', rounds),
      rounds,
    );
    observations.push(...plate.observations);
    controls.push(...plate.controls);
    for (const p of treatments)
      tried.push({ cellLine: p.cellLine, compound: p.compound, doseMicromolar: p.doseMicromolar });
    wells += treatments.length;
    rounds++;
  }
  const fit = scoreDesign(
    observations,
    controls,
    curveSeed,
    scenario.rangeExtensionFactor,
    scenario.noise.controlsPerLine,
  );
  if (mode === 'goal' && !finished && halfWidth(fit) <= GOAL_HALF_WIDTH) finished = true;
  const reached = mode === 'goal' && finished && halfWidth(fit) <= GOAL_HALF_WIDTH;
  return {
    arm: mode === 'budget' ? `learner-${budget}` : 'learner-goal',
    wells,
    fit,
    rounds,
    ...(reached ? { wellsToGoal: wells } : {}),
    batchMs,
  };
}

/** Oracle: both range ends and two doses where the true curve is at 70% and 30% of its span. */
export function oracleBlock(truth: TrueCurve, lo: number, hi: number): number[] {
  const d = Math.log10(7 / 3) / truth.hill;
  const clip = (x: number) => Math.min(hi, Math.max(lo, x));
  return [lo, hi, clip(truth.log10Ic50 - d), clip(truth.log10Ic50 + d)];
}

export function runCurve(scenario: CurveScenario, seed: number, index: number): CurveResult {
  const truth = drawCurve(scenario, seed, index);
  const curveSeed = seedFrom(seed, scenario.name, 'curve', index);
  const arms: ArmScore[] = [];
  const ext = Math.log10(scenario.rangeExtensionFactor);

  // Standard: 8-point 1:3 series from the top of the range, replicate blocks of 8.
  const series = Array.from({ length: 8 }, (_, k) => RANGE_LOG10.hi - k * Math.log10(3));
  const std = nestedDesign(
    'standard',
    Array.from({ length: 6 }, () => series).flat(),
    [8, 16, 24, 32, 40, 48],
    truth,
    scenario,
    curveSeed,
    false,
  );
  for (let k = 1; k <= 6; k++)
    arms.push({
      arm: `standard-8x${k}`,
      wells: 8 * k,
      fit: std.scores.get(8 * k)!,
      rounds: 1,
      ...(std.wellsToGoal !== undefined ? { wellsToGoal: std.wellsToGoal } : {}),
    });

  // Random log-uniform doses over the tested range.
  const rng = new RandomStream(seedFrom(curveSeed, 'random-doses'));
  const randomDoses = Array.from(
    { length: 24 },
    () => RANGE_LOG10.lo + rng.uniform() * (RANGE_LOG10.hi - RANGE_LOG10.lo),
  );
  const rnd = nestedDesign('random', randomDoses, [12, 24], truth, scenario, curveSeed, false);
  arms.push({ arm: 'random-12', wells: 12, fit: rnd.scores.get(12)!, rounds: 1 });
  arms.push({ arm: 'random-24', wells: 24, fit: rnd.scores.get(24)!, rounds: 1 });

  arms.push(runLearner(truth, scenario, curveSeed, 'budget'));
  // The target's ceiling: a published two-round adaptive design matched 8 × 3 at 16 wells.
  arms.push(runLearner(truth, scenario, curveSeed, 'budget', undefined, LEARNER_BUDGET_CEILING));
  arms.push(runLearner(truth, scenario, curveSeed, 'goal'));

  // Oracle blocks of 4 wells; knows the truth, so it may use the extended range where allowed.
  const block = oracleBlock(truth, RANGE_LOG10.lo - ext, RANGE_LOG10.hi + ext);
  const oracleDoses = Array.from({ length: WELL_CAP / 4 }, () => block).flat();
  const prefixes = Array.from({ length: WELL_CAP / 4 }, (_, k) => 4 * (k + 1));
  const ora = nestedDesign('oracle', oracleDoses, prefixes, truth, scenario, curveSeed, true);
  const at12 =
    ora.scores.get(12) ?? nestedDesign('oracle', oracleDoses, [12], truth, scenario, curveSeed, false).scores.get(12)!;
  arms.push({
    arm: 'oracle-12',
    wells: 12,
    fit: at12,
    rounds: 1,
    ...(ora.wellsToGoal !== undefined ? { wellsToGoal: ora.wellsToGoal } : {}),
  });

  return { scenario: scenario.name, index, truth, arms };
}
