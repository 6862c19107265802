import type { Assay } from '../../domain/types';
import {
  bestEnsemble,
  bestObservedMean,
  bestTargeted,
  buildEnsemble,
  buildOptim,
  buildTargeted,
  commitEnsemble,
  commitOptim,
  commitTargeted,
  optimScores,
  type OptimisationRule,
  type EnsembleState,
  type OptimState,
  type TargetedState,
} from './acquisition';
import type { CampaignAnalysis, PairAnalysis } from './analyse';
import type { DilutionGrid } from './dose-grid';
import type { RandomStream } from './rng';

/**
 * One batch shared across all pairs: each next well goes to the (pair, dose) with the largest
 * value per dollar, where value is the drop in log "variance still to go" for estimation and the
 * expected improvement for optimisation. Greedy selection with value-free covariance updates
 * (estimation) or believed readings (optimisation) keeps the batch spread over doses and pairs.
 */

export interface Pick {
  pair: PairAnalysis;
  log10Dose: number;
  value: number;
}

/** Relative cost of one well by assay: imaging costs more than a luminescence read. */
export const DEFAULT_RELATIVE_WELL_COST: Record<Assay, number> = { viability: 1, reporter: 1.2, imaging: 3 };

/** Below this expected improvement (response units) an optimisation pair is considered settled. */
export const EI_SETTLED = 0.005;

export interface BatchContext {
  analysis: CampaignAnalysis;
  maxTreatments: number;
  costPerWell: number;
  acquisitionSamples: number;
  /** Fantasy truths for the ensemble score. */
  fantasyTruths: number;
  /** Aim the batch at this fraction of the goal half-width: fantasies are a little optimistic. */
  goalMargin: number;
  scoring: 'ensemble' | 'linear';
  seed: number;
}

/** A pair's scorer during greedy selection: its best open dose, and conditioning on a pick. */
interface Scorer {
  pair: PairAnalysis;
  xs: number[];
  best(): { index: number; gain: number };
  commit(c: number): void;
}

/**
 * Pairs still far from their goal (few wells, wide interval) get the ensemble score, whose
 * fantasies capture the non-linear early posterior; pairs close to it get the linearised score,
 * which is cheap and accurate once the posterior is near-Gaussian. Both measure the same thing,
 * the expected drop in log variance, so their gains compete on equal terms.
 */
const ENSEMBLE_BELOW_WELLS = 12;
const ENSEMBLE_ABOVE_HALF_WIDTH = 0.3;

function scorerFor(
  ctx: BatchContext,
  pair: PairAnalysis,
  rng: (pair: PairAnalysis) => RandomStream,
  scratch: Float64Array,
): Scorer {
  const floor = ctx.analysis.priors.noiseFloor;
  const goalHw = pair.goal.kind === 'optimise' ? 0 : pair.goal.halfWidthLog10;
  const farFromGoal =
    pair.data.x.length < ENSEMBLE_BELOW_WELLS || pair.goalHalfWidth > Math.max(ENSEMBLE_ABOVE_HALF_WIDTH, 2 * goalHw);
  if (ctx.scoring === 'ensemble' && farFromGoal) {
    const r = rng(pair);
    const st: EnsembleState = buildEnsemble(
      pair,
      thinCandidates(pair.candidates, ctx.analysis.grid),
      ctx.acquisitionSamples,
      ctx.fantasyTruths,
      floor,
      ctx.analysis.plateRho,
      ctx.goalMargin,
      () => r.normal(),
    );
    return { pair, xs: st.xs, best: () => bestEnsemble(st, scratch), commit: (c) => commitEnsemble(st, c, scratch) };
  }
  const st: TargetedState = buildTargeted(
    pair,
    ctx.acquisitionSamples * 2,
    floor,
    ctx.analysis.plateRho,
    ctx.goalMargin,
  );
  return { pair, xs: st.xs, best: () => bestTargeted(st), commit: (c) => commitTargeted(st, c) };
}

/**
 * Far from the goal the fine grid's neighbours are interchangeable; scoring every other point
 * halves the ensemble's cost without changing where wells go.
 */
const THIN_ABOVE = 28;
function thinCandidates(xs: number[], grid: DilutionGrid): number[] {
  if (xs.length <= THIN_ABOVE) return xs;
  const even = xs.filter((x) => Math.round((grid.anchorLog10 - x) / grid.stepLog10) % 2 === 0);
  return even.length >= 8 ? even : xs;
}

/** Greedy batch shared across pairs: each next well to the pair and dose with most value per dollar. */
export function targetedBatch(
  ctx: BatchContext,
  active: PairAnalysis[],
  rng: (pair: PairAnalysis) => RandomStream,
  wellsLeft: (pair: PairAnalysis) => number = () => Infinity,
): Pick[] {
  const scratch = new Float64Array(ctx.acquisitionSamples);
  const scorers = active.filter((p) => p.candidates.length > 0).map((p) => scorerFor(ctx, p, rng, scratch));
  const left = scorers.map((st) => wellsLeft(st.pair));
  const best = scorers.map((st, i) => (left[i]! > 0 ? st.best() : { index: -1, gain: 0 }));
  const picks: Pick[] = [];
  while (picks.length < ctx.maxTreatments) {
    let k = -1;
    let top = 0;
    for (let i = 0; i < scorers.length; i++) {
      const b = best[i]!;
      // Ties resolve to the earlier pair in config order, so the batch is reproducible.
      if (b.index >= 0 && b.gain / ctx.costPerWell > top + 1e-15) {
        top = b.gain / ctx.costPerWell;
        k = i;
      }
    }
    if (k < 0) break;
    const st = scorers[k]!;
    const c = best[k]!.index;
    picks.push({ pair: st.pair, log10Dose: st.xs[c]!, value: top });
    st.commit(c);
    left[k] = left[k]! - 1;
    best[k] = left[k]! > 0 ? st.best() : { index: -1, gain: 0 };
  }
  return picks;
}

export interface OptimBatchResult {
  picks: Pick[];
  /** Largest improvement score per pair before any pick (for states and stopping). */
  initialBest: Map<string, number>;
}

export function optimisationBatch(
  ctx: BatchContext,
  direction: 'maximize' | 'minimize',
  rule: OptimisationRule,
  rng: RandomStream,
): OptimBatchResult {
  const floor = ctx.analysis.priors.noiseFloor;
  const pairs = ctx.analysis.pairs;
  let incumbent: number | undefined;
  for (const p of pairs) {
    const b = bestObservedMean(p, direction, ctx.acquisitionSamples);
    if (b !== undefined && (incumbent === undefined || (direction === 'maximize' ? b > incumbent : b < incumbent)))
      incumbent = b;
  }
  const states: OptimState[] = pairs
    .filter((p) => p.candidates.length > 0)
    .map((p) => buildOptim(p, ctx.acquisitionSamples, floor, ctx.analysis.plateRho));
  if (incumbent === undefined) {
    // Nothing read yet: improve on the best predicted mean, so EI still ranks candidates.
    for (const st of states) {
      const K = st.xs.length;
      for (let c = 0; c < K; c++) {
        let mean = 0;
        for (let i = 0; i < st.S; i++) mean += st.F[i * K + c]!;
        mean /= st.S;
        if (incumbent === undefined || (direction === 'maximize' ? mean > incumbent : mean < incumbent))
          incumbent = mean;
      }
    }
  }
  const inc = incumbent ?? (direction === 'maximize' ? 1 : 0);
  const initialBest = new Map<string, number>();
  // EI is the settle criterion whichever rule picks the wells.
  for (const st of states) initialBest.set(st.pair.key, Math.max(0, ...optimScores(st, direction, inc, 'ei', 0)));
  const picks: Pick[] = [];
  while (picks.length < ctx.maxTreatments) {
    let bestState = -1;
    let bestC = -1;
    let top = 0;
    for (let i = 0; i < states.length; i++) {
      const st = states[i]!;
      const scores = optimScores(st, direction, inc, rule, rule === 'thompson' ? rng.uniform() : 0);
      for (let c = 0; c < scores.length; c++) {
        const v = scores[c]! / ctx.costPerWell;
        if (v > top + 1e-15) {
          top = v;
          bestState = i;
          bestC = c;
        }
      }
    }
    if (bestState < 0 || (rule !== 'thompson' && top * ctx.costPerWell < EI_SETTLED)) break;
    const st = states[bestState]!;
    picks.push({ pair: st.pair, log10Dose: st.xs[bestC]!, value: top });
    commitOptim(st, bestC);
  }
  return { picks, initialBest };
}
