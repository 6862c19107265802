import {
  computeGridPosterior,
  initialWeights,
  massBounds,
  meanCurveAtWells,
  sampleGridPosterior,
  weightsFrom,
  type GridPosterior,
  type GridSpec,
  type NoisePrior,
  type PairData,
  type PosteriorSamples,
  type WellWeights,
} from './posterior';
import type { ResolvedPriors } from './priors';
import type { RandomStream } from './rng';

/**
 * Fitting one pair takes three grid passes: two coarse ones over the whole prior support that
 * settle the reference curve (for the noise shape, the plate covariance and the outlier weights)
 * and find where the mass is, then a fine one over that region. Coarse passes are cheap (a 0.1
 * log step on m); the fine pass spends its cells where the posterior lives.
 */

export interface PairPosterior {
  grid: GridPosterior;
  samples: PosteriorSamples;
  weights: WellWeights;
  /** Posterior geometric-mean noise SD at the top of the curve. */
  sigma: number;
}

export interface ReferenceFit {
  weights: WellWeights;
  grid: GridPosterior;
  sigma: number;
  /** Weighted residual sum of squares (in units of the noise shape) and its degrees of freedom, for pooling σ. */
  rss: number;
  dof: number;
  /** Posterior mean and variance of m, log h and B, for sharing strength across lines. */
  moments: { m: [number, number]; logH: [number, number]; bottom: [number, number] };
}

function moments(values: Float64Array, transform: (v: number) => number = (v) => v): [number, number] {
  let s = 0;
  let s2 = 0;
  for (let i = 0; i < values.length; i++) {
    const v = transform(values[i]!);
    s += v;
    s2 += v * v;
  }
  const n = Math.max(1, values.length);
  const mean = s / n;
  return [mean, Math.max(0, s2 / n - mean * mean)];
}

const COARSE_M_STEP = 0.1;
const COARSE_NH = 10;
const COARSE_NS = 8;
const FINE_M_STEP = 0.025;
const FINE_MIN_M = 24;
const FINE_MAX_M = 160;
const FINE_NH = 14;
const FINE_NS = 8;
const REFERENCE_SAMPLES = 160;
const LOG_SIGMA_MIN = Math.log(0.003);
const LOG_SIGMA_MAX = Math.log(1.5);

function coarseSpec(priors: ResolvedPriors, noise: NoisePrior): GridSpec {
  return {
    mLo: priors.mLo,
    mHi: priors.mHi,
    nM: Math.max(8, Math.round((priors.mHi - priors.mLo) / COARSE_M_STEP)),
    logHLo: priors.logHLo,
    logHHi: priors.logHHi,
    nH: COARSE_NH,
    logSLo: Math.max(LOG_SIGMA_MIN, noise.logMean - 3 * noise.logSd),
    logSHi: Math.min(LOG_SIGMA_MAX, noise.logMean + 3 * noise.logSd),
    nS: COARSE_NS,
  };
}

export function referenceFit(
  data: PairData,
  priors: ResolvedPriors,
  noise: NoisePrior,
  plateRho: number,
  rng: RandomStream,
): ReferenceFit {
  const spec = coarseSpec(priors, noise);
  let weights = initialWeights(data, priors, plateRho);
  let grid = computeGridPosterior(data, weights, priors, noise, spec);
  let sigma = Math.exp(noise.logMean);
  let last: PosteriorSamples | undefined;
  // Two reweighting passes: the first finds the curve, the second lets a well that the first
  // curve was pulled towards show itself as an outlier.
  for (let pass = 0; pass < 2; pass++) {
    const s = sampleGridPosterior(data, weights, priors, grid, REFERENCE_SAMPLES, rng);
    last = s;
    const mc = meanCurveAtWells(data, s);
    sigma = mc.sigma;
    weights = weightsFrom(mc.vRef, sigma, data, priors, plateRho, priors.outlierFraction);
    if (pass === 0) grid = computeGridPosterior(data, weights, priors, noise, spec);
  }
  // Residual scatter for pooling σ, with each plate's shared shift (its best linear prediction
  // under the plate-effect model) taken out first: left in, it would pass for well noise and
  // inflate σ for every pair.
  const n = data.x.length;
  const num = new Float64Array(data.nPlates);
  const den = new Float64Array(data.nPlates);
  for (let i = 0; i < n; i++) {
    const k = data.plate[i]!;
    const v = weights.vRef[i]!;
    num[k] = num[k]! + weights.omega[i]! * v * (data.y[i]! - v);
    den[k] = den[k]! + weights.omega[i]! * v * v;
  }
  let rss = 0;
  for (let i = 0; i < n; i++) {
    const k = data.plate[i]!;
    const v = weights.vRef[i]!;
    const shift = (plateRho * num[k]!) / (1 + plateRho * den[k]!);
    const r = data.y[i]! - v * (1 + shift);
    rss += weights.omega[i]! * r * r; // omega already holds inlier / shape²
  }
  const s = last!;
  return {
    weights,
    grid,
    sigma,
    rss,
    dof: Math.max(0, weights.nEff - 3),
    moments: { m: moments(s.m), logH: moments(s.h, Math.log), bottom: moments(s.bottom) },
  };
}

export function finalFit(
  data: PairData,
  priors: ResolvedPriors,
  noise: NoisePrior,
  ref: ReferenceFit,
  samples: number,
  rng: RandomStream,
): PairPosterior {
  const g = ref.grid;
  const mb = massBounds(g.mCentres, g.mStep, g.mMarginal, 1e-6, 2);
  const hb = massBounds(g.logHCentres, g.hStep, g.hMarginal, 1e-6, 1);
  const sb = massBounds(g.logSCentres, g.sStep, g.sMarginal, 1e-6, 1);
  const mLo = Math.max(priors.mLo, mb.lo);
  const mHi = Math.min(priors.mHi, mb.hi);
  const spec: GridSpec = {
    mLo,
    mHi,
    nM: Math.min(FINE_MAX_M, Math.max(FINE_MIN_M, Math.ceil((mHi - mLo) / FINE_M_STEP))),
    logHLo: Math.max(priors.logHLo, hb.lo),
    logHHi: Math.min(priors.logHHi, hb.hi),
    nH: FINE_NH,
    logSLo: Math.max(LOG_SIGMA_MIN, sb.lo),
    logSHi: Math.min(LOG_SIGMA_MAX, sb.hi),
    nS: FINE_NS,
  };
  const grid = computeGridPosterior(data, ref.weights, priors, noise, spec);
  const s = sampleGridPosterior(data, ref.weights, priors, grid, samples, rng);
  let logSig = 0;
  for (let k = 0; k < s.sigma.length; k++) logSig += Math.log(s.sigma[k]!);
  return { grid, samples: s, weights: ref.weights, sigma: Math.exp(logSig / Math.max(1, s.sigma.length)) };
}
