import { LN10 } from './math';
import type { PairAnalysis } from './analyse';

/**
 * Acquisition scores computed from posterior curve samples.
 *
 * Estimation objectives (`ic50`, `target`, `selectivity`) use the targeted score
 *   Δ(x) = Cov(q, f(x))² / (Var f(x) + s²(x)),
 * the drop in Var(q) that one well at x buys under a linear-Gaussian view of the samples (q is
 * the goal quantity, f(x) the curve at x, s² the well noise). Unlike the plain predictive
 * variance it does not waste wells on the plateaus, where f varies but says nothing about q.
 * A batch is chosen greedily with the joint covariance of (q, f(x₁..x_K)) updated after each pick
 * as if the well had been read (kriging believer): the update does not depend on the value read,
 * so no fantasy value is needed, and doses next to a chosen one lose their value, which keeps
 * batches from collapsing onto one dose.
 *
 * Optimisation objectives (`maximize`, `minimize`) use expected improvement (or UCB / Thompson)
 * over the best posterior-mean response seen; picks are made believable by re-weighting the
 * pair's samples on the fantasised reading.
 */

export interface TargetedState {
  pair: PairAnalysis;
  xs: number[];
  /** Covariance of (q, f(x_1..x_K)), row-major (K+1)². */
  cov: Float64Array;
  noise: Float64Array;
  open: Uint8Array;
  varQ0: number;
  /** Current variance of q after the picks made so far in this batch. */
  varQ: number;
  /** Variance that corresponds to the current interval half-width, and to the goal. */
  varEff0: number;
  varGoal: number;
}

/** Noise variance of one new well at response f: heteroscedastic shape plus a new plate's shift. */
export function wellNoiseVariance(sigma: number, f: number, floor: number, plateRho: number): number {
  const shape2 = (f * f + floor * floor) / (1 + floor * floor);
  return sigma * sigma * (shape2 + plateRho * f * f);
}

export function curveSamplesAt(pair: PairAnalysis, xs: readonly number[], count: number): Float64Array {
  const s = pair.posterior.samples;
  const S = Math.min(count, s.m.length);
  const K = xs.length;
  const F = new Float64Array(S * K);
  for (let i = 0; i < S; i++) {
    const m = s.m[i]!;
    const hl = s.h[i]! * LN10;
    const T = s.top[i]!;
    const B = s.bottom[i]!;
    for (let c = 0; c < K; c++) F[i * K + c] = B + (T - B) / (1 + Math.exp(hl * (xs[c]! - m)));
  }
  return F;
}

export function buildTargeted(
  pair: PairAnalysis,
  count: number,
  floor: number,
  plateRho: number,
  goalMargin: number,
): TargetedState {
  const xs = pair.candidates;
  const K = xs.length;
  const S = Math.min(count, pair.posterior.samples.m.length);
  const F = curveSamplesAt(pair, xs, S);
  const D = K + 1;
  // Centre q and f, then form the covariance in one pass over samples.
  const meanF = new Float64Array(K);
  let meanQ = 0;
  for (let i = 0; i < S; i++) {
    meanQ += pair.goalSamples[i]!;
    for (let c = 0; c < K; c++) meanF[c] = meanF[c]! + F[i * K + c]!;
  }
  meanQ /= S;
  for (let c = 0; c < K; c++) meanF[c] = meanF[c]! / S;
  const cov = new Float64Array(D * D);
  const row = new Float64Array(D);
  for (let i = 0; i < S; i++) {
    row[0] = pair.goalSamples[i]! - meanQ;
    for (let c = 0; c < K; c++) row[c + 1] = F[i * K + c]! - meanF[c]!;
    for (let a = 0; a < D; a++) {
      const ra = row[a]!;
      if (ra === 0) continue;
      const off = a * D;
      for (let b = a; b < D; b++) cov[off + b] = cov[off + b]! + ra * row[b]!;
    }
  }
  for (let a = 0; a < D; a++)
    for (let b = a; b < D; b++) {
      const v = cov[a * D + b]! / (S - 1);
      cov[a * D + b] = v;
      cov[b * D + a] = v;
    }
  const noise = new Float64Array(K);
  for (let c = 0; c < K; c++) noise[c] = wellNoiseVariance(pair.posterior.sigma, meanF[c]!, floor, plateRho);
  const varQ0 = Math.max(cov[0]!, 1e-12);
  const hw = pair.goalHalfWidth;
  const goalHw = pair.goal.kind === 'optimise' ? 0 : pair.goal.halfWidthLog10 * goalMargin;
  return {
    pair,
    xs,
    cov,
    noise,
    open: new Uint8Array(K).fill(1),
    varQ0,
    varQ: varQ0,
    varEff0: (hw / 1.96) ** 2,
    varGoal: (goalHw / 1.96) ** 2,
  };
}

/** Best open candidate of a pair and its gain in log "variance still to go". */
export function bestTargeted(st: TargetedState): { index: number; gain: number } {
  const D = st.xs.length + 1;
  const varEff = (st.varEff0 * st.varQ) / st.varQ0;
  const before = Math.log(Math.max(varEff, st.varGoal));
  let best = -1;
  let bestGain = 0;
  for (let c = 0; c < st.xs.length; c++) {
    if (!st.open[c]) continue;
    const cq = st.cov[c + 1]!;
    const vf = st.cov[(c + 1) * D + c + 1]!;
    const delta = (cq * cq) / (vf + st.noise[c]!);
    const after = Math.log(Math.max(varEff * Math.max(1e-12, 1 - delta / st.varQ), st.varGoal));
    const gain = before - after;
    if (gain > bestGain + 1e-15) {
      bestGain = gain;
      best = c;
    }
  }
  return { index: best, gain: bestGain };
}

/** Condition the covariance on a reading at candidate c (Gaussian update, value-free). */
export function commitTargeted(st: TargetedState, c: number): void {
  const D = st.xs.length + 1;
  const p = c + 1;
  const denom = st.cov[p * D + p]! + st.noise[c]!;
  const col = new Float64Array(D);
  for (let a = 0; a < D; a++) col[a] = st.cov[a * D + p]!;
  for (let a = 0; a < D; a++) {
    const ka = col[a]! / denom;
    if (ka === 0) continue;
    for (let b = 0; b < D; b++) st.cov[a * D + b] = st.cov[a * D + b]! - ka * col[b]!;
  }
  st.varQ = Math.max(1e-12, st.cov[0]!);
  st.open[c] = 0;
}

export type OptimisationRule = 'ei' | 'ucb' | 'thompson';

export interface OptimState {
  pair: PairAnalysis;
  xs: number[];
  F: Float64Array;
  S: number;
  w: Float64Array;
  noise: Float64Array;
  open: Uint8Array;
}

export function buildOptim(pair: PairAnalysis, count: number, floor: number, plateRho: number): OptimState {
  const xs = pair.candidates;
  const S = Math.min(count, pair.posterior.samples.m.length);
  const F = curveSamplesAt(pair, xs, S);
  const K = xs.length;
  const noise = new Float64Array(K);
  for (let c = 0; c < K; c++) {
    let mean = 0;
    for (let i = 0; i < S; i++) mean += F[i * K + c]!;
    noise[c] = wellNoiseVariance(pair.posterior.sigma, mean / S, floor, plateRho);
  }
  return { pair, xs, F, S, w: new Float64Array(S).fill(1 / S), noise, open: new Uint8Array(K).fill(1) };
}

/** Best posterior-mean response among the doses a pair has already been read at. */
export function bestObservedMean(
  pair: PairAnalysis,
  direction: 'maximize' | 'minimize',
  count: number,
): number | undefined {
  const xs = [...new Set(Array.from(pair.data.x))];
  if (xs.length === 0) return undefined;
  const F = curveSamplesAt(pair, xs, count);
  const S = F.length / xs.length;
  let best: number | undefined;
  for (let c = 0; c < xs.length; c++) {
    let mean = 0;
    for (let i = 0; i < S; i++) mean += F[i * xs.length + c]!;
    mean /= S;
    if (best === undefined || (direction === 'maximize' ? mean > best : mean < best)) best = mean;
  }
  return best;
}

/** Improvement score of each open candidate; `thompsonDraw` picks the sample for Thompson sampling. */
export function optimScores(
  st: OptimState,
  direction: 'maximize' | 'minimize',
  incumbent: number,
  rule: OptimisationRule,
  thompsonDraw: number,
): Float64Array {
  const K = st.xs.length;
  const out = new Float64Array(K);
  const sign = direction === 'maximize' ? 1 : -1;
  let pick = 0;
  if (rule === 'thompson') {
    let acc = 0;
    for (pick = 0; pick < st.S - 1; pick++) {
      acc += st.w[pick]!;
      if (acc > thompsonDraw) break;
    }
  }
  for (let c = 0; c < K; c++) {
    if (!st.open[c]) continue;
    if (rule === 'thompson') {
      out[c] = Math.max(0, sign * (st.F[pick * K + c]! - incumbent));
      continue;
    }
    let ei = 0;
    let mean = 0;
    let m2 = 0;
    for (let i = 0; i < st.S; i++) {
      const f = st.F[i * K + c]!;
      const w = st.w[i]!;
      ei += w * Math.max(0, sign * (f - incumbent));
      mean += w * f;
      m2 += w * f * f;
    }
    if (rule === 'ei') out[c] = ei;
    else out[c] = Math.max(0, sign * (mean - incumbent) + 2 * Math.sqrt(Math.max(0, m2 - mean * mean)));
  }
  return out;
}

/** Believe the pick: re-weight the pair's samples on a reading equal to the predicted mean. */
export function commitOptim(st: OptimState, c: number): void {
  const K = st.xs.length;
  let mean = 0;
  for (let i = 0; i < st.S; i++) mean += st.w[i]! * st.F[i * K + c]!;
  let total = 0;
  for (let i = 0; i < st.S; i++) {
    const d = st.F[i * K + c]! - mean;
    st.w[i] = st.w[i]! * Math.exp((-0.5 * d * d) / st.noise[c]!);
    total += st.w[i]!;
  }
  if (total > 0) for (let i = 0; i < st.S; i++) st.w[i] = st.w[i]! / total;
  st.open[c] = 0;
}

/**
 * Ensemble version of the targeted score, used by default: the expected posterior variance of q
 * after the batch, computed without linearising. Each of J posterior samples in turn plays the
 * truth and produces a fantasy reading at every candidate (with a fixed noise draw); the other
 * samples are re-weighted by their likelihood of those readings and Var(q) is taken under the
 * weights. Averaging over the J truths gives E[Var(q | batch)]. Early on, when the posterior of m
 * spans logs and f(x) is far from linear in m, the linear score clumps doses; this one does not.
 */
export interface EnsembleState {
  pair: PairAnalysis;
  xs: number[];
  S: number;
  J: number;
  q: Float64Array;
  F: Float64Array;
  Y: Float64Array;
  invTwoNoise: Float64Array;
  logW: Float64Array;
  open: Uint8Array;
  varNow: number;
  varQ0: number;
  varEff0: number;
  varGoal: number;
}

export function buildEnsemble(
  pair: PairAnalysis,
  xs: number[],
  count: number,
  truths: number,
  floor: number,
  plateRho: number,
  goalMargin: number,
  normal: () => number,
): EnsembleState {
  const K = xs.length;
  const S = Math.min(count, pair.posterior.samples.m.length);
  const J = Math.min(truths, S);
  const F = curveSamplesAt(pair, xs, S);
  const q = pair.goalSamples.slice(0, S);
  const invTwoNoise = new Float64Array(K);
  for (let c = 0; c < K; c++) {
    let mean = 0;
    for (let i = 0; i < S; i++) mean += F[i * K + c]!;
    invTwoNoise[c] = 1 / (2 * wellNoiseVariance(pair.posterior.sigma, mean / S, floor, plateRho));
  }
  const Y = new Float64Array(J * K);
  for (let j = 0; j < J; j++)
    for (let c = 0; c < K; c++) Y[j * K + c] = F[j * K + c]! + normal() / Math.sqrt(2 * invTwoNoise[c]!);
  let mq = 0;
  for (let i = 0; i < S; i++) mq += q[i]!;
  mq /= S;
  let vq = 0;
  for (let i = 0; i < S; i++) vq += (q[i]! - mq) ** 2;
  vq = Math.max(1e-12, vq / (S - 1));
  const goalHw = pair.goal.kind === 'optimise' ? 0 : pair.goal.halfWidthLog10 * goalMargin;
  return {
    pair,
    xs,
    S,
    J,
    q,
    F,
    Y,
    invTwoNoise,
    logW: new Float64Array(J * S),
    open: new Uint8Array(K).fill(1),
    varNow: vq,
    varQ0: vq,
    varEff0: (pair.goalHalfWidth / 1.96) ** 2,
    varGoal: (goalHw / 1.96) ** 2,
  };
}

/** E over fantasy truths of Var(q) after adding candidate c (or nothing, c = -1). */
function expectedVariance(st: EnsembleState, c: number, lw: Float64Array): number {
  const { S, J, q, F, Y } = st;
  const K = st.xs.length;
  let total = 0;
  for (let j = 0; j < J; j++) {
    const off = j * S;
    let max = -Infinity;
    const y = c >= 0 ? Y[j * K + c]! : 0;
    const inv = c >= 0 ? st.invTwoNoise[c]! : 0;
    for (let s = 0; s < S; s++) {
      if (s === j) {
        lw[s] = -Infinity; // leave the truth out of its own posterior
        continue;
      }
      let v = st.logW[off + s]!;
      if (c >= 0) {
        const d = y - F[s * K + c]!;
        v -= d * d * inv;
      }
      lw[s] = v;
      if (v > max) max = v;
    }
    let sw = 0;
    let sq = 0;
    let sqq = 0;
    for (let s = 0; s < S; s++) {
      const w = Math.exp(lw[s]! - max);
      const qs = q[s]!;
      sw += w;
      sq += w * qs;
      sqq += w * qs * qs;
    }
    const mean = sq / sw;
    total += Math.max(0, sqq / sw - mean * mean);
  }
  return total / J;
}

export function bestEnsemble(st: EnsembleState, scratch: Float64Array): { index: number; gain: number } {
  const varEff = (st.varEff0 * st.varNow) / st.varQ0;
  const before = Math.log(Math.max(varEff, st.varGoal));
  let best = -1;
  let bestGain = 0;
  for (let c = 0; c < st.xs.length; c++) {
    if (!st.open[c]) continue;
    const ev = expectedVariance(st, c, scratch);
    const after = Math.log(Math.max((varEff * Math.max(ev, 1e-12)) / st.varNow, st.varGoal));
    const gain = before - after;
    if (gain > bestGain + 1e-12) {
      bestGain = gain;
      best = c;
    }
  }
  return { index: best, gain: bestGain };
}

export function commitEnsemble(st: EnsembleState, c: number, scratch: Float64Array): void {
  const { S, J, F, Y } = st;
  const K = st.xs.length;
  st.varNow = Math.max(1e-12, expectedVariance(st, c, scratch));
  const inv = st.invTwoNoise[c]!;
  for (let j = 0; j < J; j++) {
    const y = Y[j * K + c]!;
    for (let s = 0; s < S; s++) {
      const d = y - F[s * K + c]!;
      st.logW[j * S + s] = st.logW[j * S + s]! - d * d * inv;
    }
  }
  st.open[c] = 0;
}
