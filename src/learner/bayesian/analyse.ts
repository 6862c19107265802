import type { Observation, PairState } from '../../domain/types';
import { pairKey } from '../../domain/types';
import { settingsPairs, type ProposeInput } from '../proposer';
import { doseKey, gridPointsLog10, type DilutionGrid } from './dose-grid';
import { finalFit, referenceFit, type PairPosterior, type ReferenceFit } from './fit-pair';
import { LN10, gridQuantile, sampleQuantile, sortedCopy } from './math';
import { controlScatter, pooledNoisePrior } from './noise';
import { goalFor, goalQuantity, type PairGoal } from './objectives';
import type { PairData } from './posterior';
import { resolvePriors, type CurvePriorSpec, type ResolvedPriors } from './priors';
import { RandomStream, seedFrom } from './rng';

/**
 * Everything the learner believes about a campaign: one posterior per (line, compound) pair, the
 * doses it may still try, and a summary a scientist can read. Built fresh from the observations on
 * every call, so the proposer stays a pure function of its input.
 */

export interface AnalysisOptions {
  priors: CurvePriorSpec;
  gridStepLog10: number;
  /** Posterior samples kept per pair (for intervals of derived quantities and the acquisition). */
  samples: number;
  /** Hierarchical prior across the lines of each compound. */
  shareAcrossLines: boolean;
}

export interface Interval {
  median: number;
  lo: number;
  hi: number;
}

/** A pair's posterior summary in log10 µM. */
export interface PairSummary {
  cellLine: string;
  compound: string;
  wells: number;
  state: PairState;
  /** log10 relative IC50 (midpoint of the fitted plateaus), 95% interval. */
  log10Ic50: Interval;
  /** log10 absolute IC50 (response 0.5); hi is Infinity when the curve may never reach 0.5. */
  absoluteLog10Ic50: Interval;
  /** Posterior probability that the response reaches 0.5 at some dose. */
  probAbsoluteExists: number;
  hill: Interval;
  top: Interval;
  bottom: Interval;
  noiseSd: number;
  /** The goal quantity of the objective (log10 dose) with its interval, when it is not the IC50. */
  goal?: { label: string; interval: Interval };
  /** Whether each IC50 is backed by data on both sides (≥ 2 doses beyond each bend / each side of 50%). */
  relativeSupported: boolean;
  absoluteSupported: boolean;
  probBelowRange: number;
  probAboveRange: number;
  /** The goal dose lies beyond the configured range (P ≥ 0.95) on this side, whether or not the range was extended. */
  outOfRange?: 'above' | 'below';
  /** Posterior probability that the goal dose lies beyond the configured range (not the extended one). */
  probBeyondConfigured: { above: number; below: number };
  /** Lowest and highest log10 dose with data. */
  observedLog10?: { lo: number; hi: number };
  /** The grid's limits on log10 IC50: quantiles at these are the prior's truncation, not data. */
  supportLog10: { lo: number; hi: number };
  /** The log10 dose range this pair may use (the configured one, possibly extended). */
  rangeLog10: { lo: number; hi: number };
  extended: { down: boolean; up: boolean };
  /** Why the pair stopped short of its goal (set by the proposer: well cap, no untried doses). */
  stopReason?: string;
  note: string;
}

export interface PairAnalysis {
  index: number;
  key: string;
  cellLine: string;
  compound: string;
  goal: PairGoal;
  data: PairData;
  posterior: PairPosterior;
  /** Goal quantity per posterior sample. */
  goalSamples: Float64Array;
  summary: PairSummary;
  /** Untried grid doses (log10) inside this pair's range. */
  candidates: number[];
  /** Fraction-of-variance bookkeeping for the acquisition: current 95% half-width of the goal. */
  goalHalfWidth: number;
}

export interface CampaignAnalysis {
  pairs: PairAnalysis[];
  priors: ResolvedPriors;
  grid: DilutionGrid;
  testedLog10: { lo: number; hi: number };
  extensionLog10: number;
  plateRho: number;
}

/**
 * Sharing strength across the lines of one compound (a hierarchical prior, fitted empirically):
 * each other line's reference posterior is a noisy reading of the compound's typical value, with
 * a between-line spread of τ (DOMAIN.md: log IC50 scatter across lines SD 0.3-0.5; slopes and
 * bottoms vary less). The stated prior stays in as the hyperprior and, for m and h, as a 20%
 * mixture tail so that a line unlike its siblings is still found.
 */
const MIN_WELLS_TO_SHARE = 4;
const TAU_M = 0.5;
const TAU_LOG_H = 0.25;
const TAU_BOTTOM = 0.12;
const SHARED_WEIGHT = 0.8;

function pool(
  readings: [number, number][],
  tau: number,
  mean0: number,
  sd0: number,
): { mean: number; sd: number } | undefined {
  let w = 1 / (sd0 * sd0);
  let sum = mean0 * w;
  let informative = 0;
  for (const [mean, variance] of readings) {
    // Only lines whose data say something beyond the prior count.
    if (!(variance < (sd0 * sd0) / 4)) continue;
    const wi = 1 / (tau * tau + variance);
    w += wi;
    sum += wi * mean;
    informative++;
  }
  if (informative === 0) return undefined;
  return { mean: sum / w, sd: Math.sqrt(tau * tau + 1 / w) };
}

function sharedPriors(priors: ResolvedPriors, siblings: ReferenceFit[]): ResolvedPriors {
  if (siblings.length === 0) return priors;
  const m = pool(
    siblings.map((r) => r.moments.m),
    TAU_M,
    priors.mMean,
    priors.mSd,
  );
  const h = pool(
    siblings.map((r) => r.moments.logH),
    TAU_LOG_H,
    priors.logHMean,
    priors.logHSd,
  );
  const b = pool(
    siblings.map((r) => r.moments.bottom),
    TAU_BOTTOM,
    priors.bottomMean,
    priors.bottomSd,
  );
  return {
    ...priors,
    ...(m ? { mShared: { ...m, weight: SHARED_WEIGHT } } : {}),
    ...(h ? { logHShared: { ...h, weight: SHARED_WEIGHT } } : {}),
    ...(b ? { bottomMean: b.mean, bottomSd: b.sd } : {}),
  };
}

const OUT_OF_RANGE_PROB = 0.95;
const EXTEND_WHEN_PROB = 0.25;
const INACTIVE_RESPONSE = 0.8;
const INACTIVE_PROB = 0.75;
/** Wells at most at each end dose of a pair's range (the standard design's triplicate). */
const END_REPLICATES = 3;
/** An extended end counts as tried once a dose within this many log10 units of it has data. */
const EXTENSION_TRIED_WITHIN_LOG10 = 0.25;

function groupByPair(observations: readonly Observation[]): Map<string, Observation[]> {
  const out = new Map<string, Observation[]>();
  for (const o of observations) {
    if (!Number.isFinite(o.response) || !(o.doseMicromolar > 0)) continue;
    const key = pairKey(o.cellLine, o.compound);
    const list = out.get(key);
    if (list) list.push(o);
    else out.set(key, [o]);
  }
  return out;
}

function toPairData(obs: readonly Observation[]): PairData {
  const plates = new Map<string, number>();
  const n = obs.length;
  const x = new Float64Array(n);
  const y = new Float64Array(n);
  const plate = new Int32Array(n);
  obs.forEach((o, i) => {
    x[i] = Math.log10(o.doseMicromolar);
    y[i] = o.response;
    let k = plates.get(o.plateId);
    if (k === undefined) {
      k = plates.size;
      plates.set(o.plateId, k);
    }
    plate[i] = k;
  });
  return { x, y, plate, nPlates: Math.max(1, plates.size) };
}

function interval(sorted: Float64Array): Interval {
  return { median: sampleQuantile(sorted, 0.5), lo: sampleQuantile(sorted, 0.025), hi: sampleQuantile(sorted, 0.975) };
}

export function analyseCampaign(input: ProposeInput, options: AnalysisOptions): CampaignAnalysis {
  const { settings } = input;
  const testedLog10 = {
    lo: Math.log10(settings.doseRange.minMicromolar),
    hi: Math.log10(settings.doseRange.maxMicromolar),
  };
  const extensionLog10 = Math.max(0, Math.log10(settings.rangeExtensionFactor ?? 1));
  const priors = resolvePriors(options.priors, testedLog10, {
    lo: testedLog10.lo - extensionLog10,
    hi: testedLog10.hi + extensionLog10,
  });
  const grid: DilutionGrid = { anchorLog10: testedLog10.hi, stepLog10: options.gridStepLog10 };

  const byPair = groupByPair(input.observations);
  const tried = new Map<string, Set<string>>();
  const triedCounts = new Map<string, Map<string, number>>();
  const triedExtremes = new Map<string, { lo: number; hi: number }>();
  for (const t of input.triedDoses) {
    if (!(t.doseMicromolar > 0)) continue;
    const key = pairKey(t.cellLine, t.compound);
    let set = tried.get(key);
    if (!set) tried.set(key, (set = new Set()));
    set.add(doseKey(t.doseMicromolar));
    if (!t.rejected) {
      let c = triedCounts.get(key);
      if (!c) triedCounts.set(key, (c = new Map()));
      c.set(doseKey(t.doseMicromolar), (c.get(doseKey(t.doseMicromolar)) ?? 0) + 1);
    }
    const x = Math.log10(t.doseMicromolar);
    const ex = triedExtremes.get(key) ?? { lo: Infinity, hi: -Infinity };
    triedExtremes.set(key, { lo: Math.min(ex.lo, x), hi: Math.max(ex.hi, x) });
  }

  const pairsIn = settingsPairs(settings);
  const controls = controlScatter(input.controlObservations);
  const basePrior = pooledNoisePrior(options.priors, controls);
  // Normalising to k vehicle wells leaves a per-plate shift of SD σ/√k, plus any true plate effect.
  const sigma0 = Math.exp(basePrior.logMean);
  const k = Math.max(1, settings.controlsPerLine);
  const plateRho = 1 / k + (options.priors.plateEffectSd / sigma0) ** 2;

  const datas = pairsIn.map((p) => toPairData(byPair.get(pairKey(p.cellLine, p.compound)) ?? []));
  const refs: ReferenceFit[] = pairsIn.map((p, i) =>
    referenceFit(
      datas[i]!,
      priors,
      basePrior,
      plateRho,
      new RandomStream(seedFrom(settings.seed, input.iteration, 'ref', p.cellLine, p.compound)),
    ),
  );
  let totalSs = controls.ss;
  let totalDof = controls.dof;
  for (const r of refs) {
    totalSs += r.rss;
    totalDof += r.dof;
  }

  const pairs: PairAnalysis[] = pairsIn.map((p, index) => {
    const key = pairKey(p.cellLine, p.compound);
    // Each pair works within its own dose range (the campaign's pairs may each give one).
    const pairTested = {
      lo: Math.log10(p.doseRange.minMicromolar),
      hi: Math.log10(p.doseRange.maxMicromolar),
    };
    const data = datas[index]!;
    const ref = refs[index]!;
    const noise = pooledNoisePrior(options.priors, { ss: totalSs - ref.rss, dof: totalDof - ref.dof });
    const rng = new RandomStream(seedFrom(settings.seed, input.iteration, 'post', p.cellLine, p.compound));
    const siblings = pairsIn.flatMap((q, j) =>
      j !== index && q.compound === p.compound && datas[j]!.x.length >= MIN_WELLS_TO_SHARE ? [refs[j]!] : [],
    );
    const pairPriors = options.shareAcrossLines ? sharedPriors(priors, siblings) : priors;
    const posterior = finalFit(data, pairPriors, noise, ref, options.samples, rng);
    const goal = goalFor(settings.objective, p.cellLine);

    const beyond = priors.mHi + 1;
    const s = posterior.samples;
    const goalSamples = new Float64Array(s.m.length);
    for (let i = 0; i < s.m.length; i++)
      goalSamples[i] = goalQuantity(goal, s.m[i]!, s.h[i]!, s.top[i]!, s.bottom[i]!, beyond);

    // Extend the range towards a goal dose (the IC50, or the dose for the target response) that
    // plausibly lies beyond it, and keep an extension once doses have been run there (the
    // proposer is stateless: the tried doses are its memory).
    const g = posterior.grid;
    const byGoal = goal.kind === 'dose-for-response';
    const pAbove = byGoal
      ? fractionWhere(goalSamples, (q) => q > pairTested.hi)
      : massBeyond(g.mCentres, g.mStep, g.mMarginal, pairTested.hi, 'above');
    const pBelow = byGoal
      ? fractionWhere(goalSamples, (q) => q < pairTested.lo)
      : massBeyond(g.mCentres, g.mStep, g.mMarginal, pairTested.lo, 'below');
    const ex = triedExtremes.get(key);
    const up = extensionLog10 > 0 && (pAbove >= EXTEND_WHEN_PROB || (ex !== undefined && ex.hi > pairTested.hi + 1e-6));
    const down =
      extensionLog10 > 0 && (pBelow >= EXTEND_WHEN_PROB || (ex !== undefined && ex.lo < pairTested.lo - 1e-6));
    const rangeLog10 = {
      lo: pairTested.lo - (down ? extensionLog10 : 0),
      hi: pairTested.hi + (up ? extensionLog10 : 0),
    };

    const triedSet = tried.get(key) ?? new Set<string>();
    const points = gridPointsLog10(grid, rangeLog10.lo, rangeLog10.hi);
    const candidates = points.filter((x) => !triedSet.has(doseKey(Math.pow(10, x))));
    // The two ends of the range are the exception to "never the same dose twice": a plateau the
    // range cannot get beyond is pinned only by repeating its end dose (as 8 × 3 does in triplicate).
    // Only for an IC50 question: a dose for a response or a window lies inside the range by nature.
    const counts = goal.kind === 'ic50' ? triedCounts.get(key) : undefined;
    for (const end of points.length > 1 && counts ? [points[0]!, points[points.length - 1]!] : [])
      for (let r = counts?.get(doseKey(Math.pow(10, end))) ?? 0; r > 0 && r < END_REPLICATES; r++) candidates.push(end);
    const summary = summarise(
      p.cellLine,
      p.compound,
      data,
      posterior,
      goal,
      goalSamples,
      rangeLog10,
      pairTested,
      { down, up },
      extensionLog10 > 0,
      { lo: priors.mLo, hi: priors.mHi },
    );
    const goalInterval = goal.kind === 'dose-for-response' ? summary.goal!.interval : summary.log10Ic50;
    return {
      index,
      key,
      cellLine: p.cellLine,
      compound: p.compound,
      goal,
      data,
      posterior,
      goalSamples,
      summary,
      candidates,
      goalHalfWidth: (goalInterval.hi - goalInterval.lo) / 2,
    };
  });
  return { pairs, priors, grid, testedLog10, extensionLog10, plateRho };
}

function massBeyond(
  centres: Float64Array,
  step: number,
  marginal: Float64Array,
  edge: number,
  side: 'above' | 'below',
): number {
  let p = 0;
  for (let a = 0; a < centres.length; a++) {
    const lo = centres[a]! - step / 2;
    const hi = lo + step;
    const frac =
      side === 'above'
        ? hi <= edge
          ? 0
          : lo >= edge
            ? 1
            : (hi - edge) / step
        : lo >= edge
          ? 0
          : hi <= edge
            ? 1
            : (edge - lo) / step;
    p += frac * marginal[a]!;
  }
  return p;
}

function summarise(
  cellLine: string,
  compound: string,
  data: PairData,
  post: PairPosterior,
  goal: PairGoal,
  goalSamples: Float64Array,
  rangeLog10: { lo: number; hi: number },
  configuredLog10: { lo: number; hi: number },
  extended: { down: boolean; up: boolean },
  canExtend: boolean,
  supportLog10: { lo: number; hi: number },
): PairSummary {
  const g = post.grid;
  const s = post.samples;
  const S = s.m.length;
  const log10Ic50: Interval = {
    median: gridQuantile(g.mCentres, g.mStep, g.mMarginal, 0.5),
    lo: gridQuantile(g.mCentres, g.mStep, g.mMarginal, 0.025),
    hi: gridQuantile(g.mCentres, g.mStep, g.mMarginal, 0.975),
  };
  const observedHi = data.x.length > 0 ? Math.max(...data.x) : rangeLog10.hi;
  const observedLo = data.x.length > 0 ? Math.min(...data.x) : rangeLog10.lo;
  const abs = new Float64Array(S);
  let absExists = 0;
  let inactiveVotes = 0;
  for (let i = 0; i < S; i++) {
    const top = s.top[i]!;
    const bottom = s.bottom[i]!;
    if (bottom < 0.5 && top > 0.5) {
      abs[i] = s.m[i]! + Math.log10((top - 0.5) / (0.5 - bottom)) / s.h[i]!;
      absExists++;
    } else abs[i] = bottom >= 0.5 ? Infinity : -Infinity;
    // "No effect" is judged where there are data: at the highest dose run.
    const vTop = bottom + (top - bottom) / (1 + Math.exp(LN10 * s.h[i]! * (observedHi - s.m[i]!)));
    if (vTop >= INACTIVE_RESPONSE) inactiveVotes++;
  }
  const absSorted = sortedCopy(abs);
  const absoluteLog10Ic50 = interval(absSorted);
  const hill = interval(sortedCopy(s.h));
  const top = interval(sortedCopy(s.top));
  const bottom = interval(sortedCopy(s.bottom));
  const goalInterval = goal.kind === 'dose-for-response' ? interval(sortedCopy(goalSamples)) : log10Ic50;

  // Support: count distinct doses beyond each bend (10% / 90% of the span) and each side of 50%.
  const m = log10Ic50.median;
  const h = hill.median;
  const bend = Math.log10(9) / h;
  const doses = [...new Set(Array.from(data.x, (x) => x.toFixed(4)))].map(Number);
  const relativeSupported =
    doses.filter((x) => x <= m - bend).length >= 2 && doses.filter((x) => x >= m + bend).length >= 2;
  const a50 = absoluteLog10Ic50.median;
  const absoluteSupported =
    Number.isFinite(a50) && doses.filter((x) => x < a50).length >= 2 && doses.filter((x) => x > a50).length >= 2;

  const pAboveGoal = fractionWhere(goalSamples, (q) => q > rangeLog10.hi);
  const pBelowGoal = fractionWhere(goalSamples, (q) => q < rangeLog10.lo);
  const probAboveRange =
    goal.kind === 'dose-for-response'
      ? pAboveGoal
      : massBeyond(g.mCentres, g.mStep, g.mMarginal, rangeLog10.hi, 'above');
  const probBelowRange =
    goal.kind === 'dose-for-response'
      ? pBelowGoal
      : massBeyond(g.mCentres, g.mStep, g.mMarginal, rangeLog10.lo, 'below');
  const halfWidth = (goalInterval.hi - goalInterval.lo) / 2;
  const n = data.x.length;
  // Beyond the configured range, whatever extension then does about it.
  const beyondAbove =
    goal.kind === 'dose-for-response'
      ? fractionWhere(goalSamples, (q) => q > configuredLog10.hi)
      : massBeyond(g.mCentres, g.mStep, g.mMarginal, configuredLog10.hi, 'above');
  const beyondBelow =
    goal.kind === 'dose-for-response'
      ? fractionWhere(goalSamples, (q) => q < configuredLog10.lo)
      : massBeyond(g.mCentres, g.mStep, g.mMarginal, configuredLog10.lo, 'below');
  // For an IC50 question the absolute IC50 counts too (where the curve surely reaches 50%): a
  // curve whose half-kill dose is beyond the top is out of range even while its plateaus are unsure.
  const absBeyond = (side: 'above' | 'below') => {
    if (goal.kind !== 'ic50' || absExists / S < OUT_OF_RANGE_PROB) return 0;
    let c = 0;
    for (let i = 0; i < S; i++)
      if (Number.isFinite(abs[i]!) && (side === 'above' ? abs[i]! > configuredLog10.hi : abs[i]! < configuredLog10.lo))
        c++;
    return c / absExists;
  };
  const outOfRange =
    n > 0 && goal.kind !== 'optimise'
      ? Math.max(beyondAbove, absBeyond('above')) >= OUT_OF_RANGE_PROB
        ? ('above' as const)
        : Math.max(beyondBelow, absBeyond('below')) >= OUT_OF_RANGE_PROB
          ? ('below' as const)
          : undefined
      : undefined;

  let state: PairState = 'estimating';
  const notes: string[] = [];
  // A pair can only be given up once the range it may use has been extended as far as allowed.
  // A pair can only be given up once the range it may use has been extended as far as allowed and
  // a dose has been run near the new end: the extension is what tells "just beyond" from "far beyond".
  const upExhausted = !canExtend || (extended.up && observedHi >= rangeLog10.hi - EXTENSION_TRIED_WITHIN_LOG10);
  const downExhausted = !canExtend || (extended.down && observedLo <= rangeLog10.lo + EXTENSION_TRIED_WITHIN_LOG10);
  if (n > 0 && goal.kind !== 'optimise') {
    if (probAboveRange >= OUT_OF_RANGE_PROB && upExhausted) {
      state = inactiveVotes / S >= INACTIVE_PROB ? 'inactive' : 'out of range';
      notes.push(
        state === 'inactive' ? 'little or no effect up to the top dose' : `${goalName(goal)} above the tested range`,
      );
    } else if (probBelowRange >= OUT_OF_RANGE_PROB && downExhausted) {
      state = 'out of range';
      notes.push(`${goalName(goal)} below the tested range`);
    } else if (halfWidth <= goal.halfWidthLog10 && (goal.kind !== 'ic50' || relativeSupported || absoluteSupported)) {
      // An IC50 interval is only an answer when data back it on both sides: a narrow interval
      // from a few wells and the priors' plateaus is not.
      state = 'answered';
    }
  }
  if (outOfRange) notes.push(`out of range (${outOfRange})`);
  // Say whether doses were run beyond the configured range, or the range is only open to them.
  if (canExtend && extended.up)
    notes.push(
      observedHi > configuredLog10.hi + 1e-6
        ? `range extended upwards (doses run up to ${fmt(observedHi)} µM, allowed ${fmt(rangeLog10.hi)} µM)`
        : `range open upwards to ${fmt(rangeLog10.hi)} µM`,
    );
  if (canExtend && extended.down)
    notes.push(
      observedLo < configuredLog10.lo - 1e-6
        ? `range extended downwards (doses run down to ${fmt(observedLo)} µM, allowed ${fmt(rangeLog10.lo)} µM)`
        : `range open downwards to ${fmt(rangeLog10.lo)} µM`,
    );
  if (n > 0) {
    notes.push(
      `absolute IC50 ${
        absExists / S < 0.5
          ? 'not reached'
          : `${fmt(absoluteLog10Ic50.median)} µM [${fmt(absoluteLog10Ic50.lo)}, ${fmt(absoluteLog10Ic50.hi)}]`
      }`,
    );
    if (!relativeSupported) notes.push('relative IC50 not supported by data on both plateaus');
    if (!absoluteSupported) notes.push('absolute IC50 not supported by data on both sides of 50%');
    if (goal.kind === 'dose-for-response')
      notes.push(`${goal.label}: ${fmt(goalInterval.median)} µM [${fmt(goalInterval.lo)}, ${fmt(goalInterval.hi)}]`);
  }
  return {
    cellLine,
    compound,
    wells: n,
    state,
    log10Ic50,
    absoluteLog10Ic50,
    probAbsoluteExists: absExists / S,
    hill,
    top,
    bottom,
    noiseSd: post.sigma,
    ...(goal.kind === 'dose-for-response' ? { goal: { label: goal.label, interval: goalInterval } } : {}),
    relativeSupported,
    absoluteSupported,
    probBelowRange,
    probAboveRange,
    ...(outOfRange ? { outOfRange } : {}),
    probBeyondConfigured: { above: beyondAbove, below: beyondBelow },
    ...(n > 0 ? { observedLog10: { lo: observedLo, hi: observedHi } } : {}),
    supportLog10,
    rangeLog10,
    extended,
    note: notes.join('; '),
  };
}

function goalName(goal: PairGoal): string {
  return goal.kind === 'dose-for-response' ? goal.label : 'IC50';
}

function fractionWhere(values: Float64Array, pred: (v: number) => boolean): number {
  let c = 0;
  for (let i = 0; i < values.length; i++) if (pred(values[i]!)) c++;
  return values.length > 0 ? c / values.length : 0;
}

function fmt(log10Value: number): string {
  if (!Number.isFinite(log10Value)) return log10Value > 0 ? '∞' : '0';
  return Number(Math.pow(10, log10Value).toPrecision(3)).toString();
}
