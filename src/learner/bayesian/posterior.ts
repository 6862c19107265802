import { LN10, logNormalInterval, truncatedNormal } from './math';
import type { ResolvedPriors } from './priors';
import type { RandomStream } from './rng';

/**
 * Posterior of one pair's 4PL curve on a grid over (log10 IC50 m, log Hill slope, log noise SD σ),
 * with top T and bottom B integrated out exactly. Given (m, h) the curve is linear in (T, B):
 * v = T·g + B·(1 - g) with g = 1 / (1 + 10^(h (x - m))), so with Gaussian priors on T and B the
 * marginal likelihood is closed-form, and the box constraint on B is exact too (it multiplies by
 * the posterior probability that B lies in the box). A grid is honest at 2–40 points where a
 * Laplace approximation is not: partial curves give banana-shaped, one-sided posteriors on m.
 *
 * The likelihood is Gaussian with
 *  - heteroscedastic SD σ·sqrt(v² + floor²)/sqrt(1 + floor²) (σ is the SD at the top),
 *  - a shared multiplicative shift per plate (what normalisation to a few vehicle wells leaves),
 *    integrated out by a rank-one update per plate,
 *  - per-well weights that are the posterior probability of not being an outlier under an
 *    ε-contamination mixture, fixed from a reference fit (one EM step per pass).
 * The shape, plate covariance and weights use a reference curve from the previous pass, as in
 * iteratively reweighted least squares.
 */

export interface PairData {
  /** log10 dose (µM) per well. */
  x: Float64Array;
  y: Float64Array;
  /** Plate index per well, 0..nPlates-1. */
  plate: Int32Array;
  nPlates: number;
}

export interface WellWeights {
  /** Inlier probability / shape², per well. */
  omega: Float64Array;
  /** Reference curve at each well, for the plate-effect covariance. */
  vRef: Float64Array;
  /** Effective number of wells (sum of inlier probabilities). */
  nEff: number;
  /** Plate-effect variance relative to σ². */
  plateRho: number;
}

export interface SharedPrior {
  mean: number;
  sd: number;
  weight: number;
}

export interface NoisePrior {
  logMean: number;
  logSd: number;
}

export interface GridSpec {
  mLo: number;
  mHi: number;
  nM: number;
  logHLo: number;
  logHHi: number;
  nH: number;
  logSLo: number;
  logSHi: number;
  nS: number;
}

export interface GridPosterior {
  spec: GridSpec;
  mStep: number;
  hStep: number;
  sStep: number;
  /** Normalised cell probabilities, index ((a · nH) + j) · nS + l for m index a, h index j, σ index l. */
  prob: Float64Array;
  mMarginal: Float64Array;
  hMarginal: Float64Array;
  sMarginal: Float64Array;
  mCentres: Float64Array;
  logHCentres: Float64Array;
  logSCentres: Float64Array;
  /** log marginal likelihood up to a constant shared by all cells (for diagnostics). */
  logEvidence: number;
}

export interface PosteriorSamples {
  m: Float64Array;
  h: Float64Array;
  top: Float64Array;
  bottom: Float64Array;
  sigma: Float64Array;
}

function centres(lo: number, hi: number, n: number): Float64Array {
  const step = (hi - lo) / n;
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) out[i] = lo + (i + 0.5) * step;
  return out;
}

/**
 * Weights for a first pass: every well equal. Taking the noise shape from the observations
 * themselves would hand a low outlier many times the weight of its neighbours, and the first
 * pass must not be led by the very wells the later passes are meant to catch.
 */
export function initialWeights(data: PairData, _priors: ResolvedPriors, plateRho: number): WellWeights {
  const n = data.x.length;
  const vRef = new Float64Array(n);
  let mean = 0;
  for (let i = 0; i < n; i++) mean += Math.min(1.1, Math.max(0, data.y[i]!)) / n;
  vRef.fill(mean);
  return { omega: new Float64Array(n).fill(1), vRef, nEff: n, plateRho };
}

/**
 * Weights from a reference curve and noise SD: heteroscedastic shape, and the posterior
 * probability that each well is an inlier under (1-ε) N(v, sd²) + ε U(-0.25, 1.25).
 */
export function weightsFrom(
  vRef: Float64Array,
  sigma: number | undefined,
  data: PairData,
  priors: ResolvedPriors,
  plateRho: number,
  outlierFraction: number,
): WellWeights {
  const n = data.x.length;
  const omega = new Float64Array(n);
  const floor2 = priors.noiseFloor * priors.noiseFloor;
  let nEff = 0;
  for (let i = 0; i < n; i++) {
    const v = vRef[i]!;
    const shape2 = (v * v + floor2) / (1 + floor2);
    let inlier = 1;
    if (sigma !== undefined && outlierFraction > 0) {
      // The plate shift adds to the spread a single well can show around the curve.
      const sd = sigma * Math.sqrt(shape2 + plateRho * v * v);
      const r = (data.y[i]! - v) / sd;
      const inDensity = ((1 - outlierFraction) * Math.exp(-0.5 * r * r)) / (sd * Math.sqrt(2 * Math.PI));
      const outDensity = outlierFraction / 1.5;
      inlier = inDensity / (inDensity + outDensity);
    }
    omega[i] = inlier / shape2;
    nEff += inlier;
  }
  // A reference curve that calls many wells outliers is itself the outlier (a fit gone to a wrong
  // mode): keep every well rather than let such a curve discard the data that contradict it.
  if (n - nEff > Math.max(2, MAX_OUTLIER_SHARE * n)) {
    for (let i = 0; i < n; i++) {
      const v = vRef[i]!;
      omega[i] = (1 + floor2) / (v * v + floor2);
    }
    nEff = n;
  }
  return { omega, vRef: Float64Array.from(vRef), nEff, plateRho };
}

/** Most wells a reference fit may call outliers (the harsh scenario has 2%). */
const MAX_OUTLIER_SHARE = 0.15;

interface PlateConstants {
  u: Float64Array;
  gamma: Float64Array;
  u1: Float64Array;
  uy: Float64Array;
  s11: number;
  s1y: number;
  syy: number;
}

function plateConstants(data: PairData, w: WellWeights): PlateConstants {
  const n = data.x.length;
  const P = data.nPlates;
  const u = new Float64Array(n);
  const sk = new Float64Array(P);
  const u1 = new Float64Array(P);
  const uy = new Float64Array(P);
  let s11 = 0;
  let s1y = 0;
  let syy = 0;
  for (let i = 0; i < n; i++) {
    const om = w.omega[i]!;
    const y = data.y[i]!;
    const ui = om * w.vRef[i]!;
    const k = data.plate[i]!;
    u[i] = ui;
    sk[k] = sk[k]! + ui * w.vRef[i]!;
    u1[k] = u1[k]! + ui;
    uy[k] = uy[k]! + ui * y;
    s11 += om;
    s1y += om * y;
    syy += om * y * y;
  }
  const gamma = new Float64Array(P);
  for (let k = 0; k < P; k++) {
    gamma[k] = w.plateRho / (1 + w.plateRho * sk[k]!);
    s11 -= gamma[k]! * u1[k]! * u1[k]!;
    s1y -= gamma[k]! * u1[k]! * uy[k]!;
    syy -= gamma[k]! * uy[k]! * uy[k]!;
  }
  return { u, gamma, u1, uy, s11, s1y, syy };
}

/**
 * Log prior density: the stated normal, or when other lines of the same compound have been
 * measured, a mixture that puts most weight on what they say and keeps the stated prior as a
 * heavy tail, so a line that differs from its siblings is not forced to look like them.
 */
function logPriorDensity(x: number, mean: number, sd: number, shared: SharedPrior | undefined): number {
  const zb = (x - mean) / sd;
  const base = Math.exp(-0.5 * zb * zb) / sd;
  if (!shared) return Math.log(base);
  const zs = (x - shared.mean) / shared.sd;
  return Math.log((1 - shared.weight) * base + (shared.weight * Math.exp(-0.5 * zs * zs)) / shared.sd);
}

/** Log density of N(mean, sd²) up to a constant. */
function logNormal(x: number, mean: number, sd: number): number {
  const z = (x - mean) / sd;
  return -0.5 * z * z;
}

export function computeGridPosterior(
  data: PairData,
  w: WellWeights,
  priors: ResolvedPriors,
  noise: NoisePrior,
  spec: GridSpec,
): GridPosterior {
  const n = data.x.length;
  const P = data.nPlates;
  const { nM, nH, nS } = spec;
  const mStep = (spec.mHi - spec.mLo) / nM;
  const hStep = (spec.logHHi - spec.logHLo) / nH;
  const sStep = (spec.logSHi - spec.logSLo) / nS;
  const mC = centres(spec.mLo, spec.mHi, nM);
  const hC = centres(spec.logHLo, spec.logHHi, nH);
  const sC = centres(spec.logSLo, spec.logSHi, nS);
  const pc = plateConstants(data, w);

  // Prior on (T, B): independent normals, precision Λ0 and Λ0 μ0.
  const l0T = 1 / (priors.topSd * priors.topSd);
  const l0B = 1 / (priors.bottomSd * priors.bottomSd);
  const b0T = l0T * priors.topMean;
  const b0B = l0B * priors.bottomMean;

  const inv2 = new Float64Array(nS);
  const sigmaTerm = new Float64Array(nS);
  for (let l = 0; l < nS; l++) {
    const s2 = Math.exp(2 * sC[l]!);
    inv2[l] = 1 / s2;
    // -nEff log σ for the likelihood, plus the log-normal prior on σ (grid is uniform in log σ).
    sigmaTerm[l] = -w.nEff * sC[l]! + logNormal(sC[l]!, noise.logMean, noise.logSd);
  }
  const mPrior = new Float64Array(nM);
  for (let a = 0; a < nM; a++) mPrior[a] = logPriorDensity(mC[a]!, priors.mMean, priors.mSd, priors.mShared);

  const logp = new Float64Array(nM * nH * nS);
  const e = new Float64Array(n);
  const ug = new Float64Array(P);
  const bLo = priors.bottomMin;
  const bHi = priors.bottomMax;

  for (let j = 0; j < nH; j++) {
    const h = Math.exp(hC[j]!);
    const hPrior = logPriorDensity(hC[j]!, priors.logHMean, priors.logHSd, priors.logHShared);
    const hl = h * LN10;
    for (let i = 0; i < n; i++) e[i] = Math.exp(hl * (data.x[i]! - mC[0]!));
    const ratio = Math.exp(-hl * mStep);
    for (let a = 0; a < nM; a++) {
      let sgg = 0;
      let sg1 = 0;
      let sgy = 0;
      ug.fill(0);
      for (let i = 0; i < n; i++) {
        const ei = e[i]!;
        const g = 1 / (1 + ei);
        e[i] = ei * ratio;
        const wg = w.omega[i]! * g;
        sgg += wg * g;
        sg1 += wg;
        sgy += wg * data.y[i]!;
        const k = data.plate[i]!;
        ug[k] = ug[k]! + pc.u[i]! * g;
      }
      for (let k = 0; k < P; k++) {
        const gk = pc.gamma[k]!;
        if (gk === 0) continue;
        const uk = ug[k]!;
        sgg -= gk * uk * uk;
        sg1 -= gk * uk * pc.u1[k]!;
        sgy -= gk * uk * pc.uy[k]!;
      }
      // (T, B) basis: row (g, 1 - g).
      const pTT = sgg;
      const pTB = sg1 - sgg;
      const pBB = pc.s11 - 2 * sg1 + sgg;
      const rT = sgy;
      const rB = pc.s1y - sgy;
      const base = mPrior[a]! + hPrior;
      const cellOffset = (a * nH + j) * nS;
      for (let l = 0; l < nS; l++) {
        const q = inv2[l]!;
        const aTT = l0T + pTT * q;
        const aTB = pTB * q;
        const aBB = l0B + pBB * q;
        const bT = b0T + rT * q;
        const bB = b0B + rB * q;
        const det = aTT * aBB - aTB * aTB;
        const muT = (aBB * bT - aTB * bB) / det;
        const muB = (aTT * bB - aTB * bT) / det;
        const quad = bT * muT + bB * muB;
        const sdB = Math.sqrt(aTT / det);
        const trunc = logNormalInterval((bLo - muB) / sdB, (bHi - muB) / sdB);
        logp[cellOffset + l] = base + sigmaTerm[l]! - 0.5 * pc.syy * q + 0.5 * quad - 0.5 * Math.log(det) + trunc;
      }
    }
  }

  let max = -Infinity;
  for (let c = 0; c < logp.length; c++) if (logp[c]! > max) max = logp[c]!;
  let total = 0;
  const prob = logp; // reuse the buffer
  for (let c = 0; c < prob.length; c++) {
    const v = Math.exp(prob[c]! - max);
    prob[c] = Number.isFinite(v) ? v : 0;
    total += prob[c]!;
  }
  const mMarginal = new Float64Array(nM);
  const hMarginal = new Float64Array(nH);
  const sMarginal = new Float64Array(nS);
  for (let a = 0; a < nM; a++) {
    for (let j = 0; j < nH; j++) {
      const off = (a * nH + j) * nS;
      for (let l = 0; l < nS; l++) {
        const p = prob[off + l]! / total;
        prob[off + l] = p;
        mMarginal[a] = mMarginal[a]! + p;
        hMarginal[j] = hMarginal[j]! + p;
        sMarginal[l] = sMarginal[l]! + p;
      }
    }
  }
  return {
    spec,
    mStep,
    hStep,
    sStep,
    prob,
    mMarginal,
    hMarginal,
    sMarginal,
    mCentres: mC,
    logHCentres: hC,
    logSCentres: sC,
    logEvidence: max + Math.log(total),
  };
}

/** Conditional posterior of (T, B) given (m, h, σ): a bivariate normal, B truncated to the box. */
export function conditionalTopBottom(
  data: PairData,
  w: WellWeights,
  pc: PlateConstantsHandle,
  priors: ResolvedPriors,
  m: number,
  h: number,
  sigma: number,
): { muT: number; muB: number; cTT: number; cTB: number; cBB: number } {
  const n = data.x.length;
  const consts = pc.get();
  const ug = pc.scratch;
  ug.fill(0);
  let sgg = 0;
  let sg1 = 0;
  let sgy = 0;
  for (let i = 0; i < n; i++) {
    const g = 1 / (1 + Math.exp(LN10 * h * (data.x[i]! - m)));
    const wg = w.omega[i]! * g;
    sgg += wg * g;
    sg1 += wg;
    sgy += wg * data.y[i]!;
    const k = data.plate[i]!;
    ug[k] = ug[k]! + consts.u[i]! * g;
  }
  for (let k = 0; k < data.nPlates; k++) {
    const gk = consts.gamma[k]!;
    const uk = ug[k]!;
    sgg -= gk * uk * uk;
    sg1 -= gk * uk * consts.u1[k]!;
    sgy -= gk * uk * consts.uy[k]!;
  }
  const q = 1 / (sigma * sigma);
  const l0T = 1 / (priors.topSd * priors.topSd);
  const l0B = 1 / (priors.bottomSd * priors.bottomSd);
  const aTT = l0T + sgg * q;
  const aTB = (sg1 - sgg) * q;
  const aBB = l0B + (consts.s11 - 2 * sg1 + sgg) * q;
  const bT = l0T * priors.topMean + sgy * q;
  const bB = l0B * priors.bottomMean + (consts.s1y - sgy) * q;
  const det = aTT * aBB - aTB * aTB;
  return {
    muT: (aBB * bT - aTB * bB) / det,
    muB: (aTT * bB - aTB * bT) / det,
    cTT: aBB / det,
    cTB: -aTB / det,
    cBB: aTT / det,
  };
}

/** Lazily computed plate constants, shared between the samples of one pair. */
export class PlateConstantsHandle {
  private cached: PlateConstants | undefined;
  readonly scratch: Float64Array;
  constructor(
    private readonly data: PairData,
    private readonly w: WellWeights,
  ) {
    this.scratch = new Float64Array(data.nPlates);
  }
  get(): PlateConstants {
    this.cached ??= plateConstants(this.data, this.w);
    return this.cached;
  }
}

/**
 * Draw samples: cells by systematic resampling of the grid, then (m, log h, log σ) uniform within
 * the cell and (T, B) from their exact conditional.
 */
export function sampleGridPosterior(
  data: PairData,
  w: WellWeights,
  priors: ResolvedPriors,
  post: GridPosterior,
  count: number,
  rng: RandomStream,
): PosteriorSamples {
  const { nH, nS } = post.spec;
  const out: PosteriorSamples = {
    m: new Float64Array(count),
    h: new Float64Array(count),
    top: new Float64Array(count),
    bottom: new Float64Array(count),
    sigma: new Float64Array(count),
  };
  const pc = new PlateConstantsHandle(data, w);
  const offset = rng.uniform();
  let acc = 0;
  let s = 0;
  for (let c = 0; c < post.prob.length && s < count; c++) {
    acc += post.prob[c]! * count;
    if (!(s + offset < acc)) continue;
    const l = c % nS;
    const j = Math.floor(c / nS) % nH;
    const a = Math.floor(c / (nS * nH));
    const sigma = Math.exp(post.logSCentres[l]!);
    // (T, B) given the cell centre; (m, h) are then spread uniformly over the cell. The conditional
    // barely moves within a cell and computing it once per cell keeps sampling O(cells · n).
    const cond = conditionalTopBottom(data, w, pc, priors, post.mCentres[a]!, Math.exp(post.logHCentres[j]!), sigma);
    const sdB = Math.sqrt(cond.cBB);
    const slope = cond.cTB / cond.cBB;
    const condSd = Math.sqrt(Math.max(0, cond.cTT - cond.cTB * slope));
    while (s < count && s + offset < acc) {
      const bottom = truncatedNormal(cond.muB, sdB, priors.bottomMin, priors.bottomMax, rng.uniform());
      out.m[s] = post.mCentres[a]! + (rng.uniform() - 0.5) * post.mStep;
      out.h[s] = Math.exp(post.logHCentres[j]! + (rng.uniform() - 0.5) * post.hStep);
      out.top[s] = cond.muT + slope * (bottom - cond.muB) + condSd * rng.normal();
      out.bottom[s] = bottom;
      out.sigma[s] = Math.exp(post.logSCentres[l]! + (rng.uniform() - 0.5) * post.sStep);
      s++;
    }
  }
  // Rounding can leave the last slot or two unfilled; repeat the final cell's draw.
  for (; s < count; s++) {
    out.m[s] = out.m[s - 1] ?? 0;
    out.h[s] = out.h[s - 1] ?? 1;
    out.top[s] = out.top[s - 1] ?? 1;
    out.bottom[s] = out.bottom[s - 1] ?? 0;
    out.sigma[s] = out.sigma[s - 1] ?? 0.1;
  }
  // Systematic resampling orders draws by cell; shuffle so any prefix is a fair subsample.
  shuffleSamples(out, rng);
  return out;
}

function shuffleSamples(s: PosteriorSamples, rng: RandomStream): void {
  const arrays = [s.m, s.h, s.top, s.bottom, s.sigma];
  for (let i = s.m.length - 1; i > 0; i--) {
    const k = Math.floor(rng.uniform() * (i + 1));
    for (const arr of arrays) {
      const t = arr[i]!;
      arr[i] = arr[k]!;
      arr[k] = t;
    }
  }
}

/** Posterior-mean curve at each well and mean σ, from samples. */
export function meanCurveAtWells(data: PairData, s: PosteriorSamples): { vRef: Float64Array; sigma: number } {
  const n = data.x.length;
  const S = s.m.length;
  const vRef = new Float64Array(n);
  let sig = 0;
  for (let k = 0; k < S; k++) {
    const m = s.m[k]!;
    const h = s.h[k]!;
    const T = s.top[k]!;
    const B = s.bottom[k]!;
    for (let i = 0; i < n; i++) vRef[i] = vRef[i]! + B + (T - B) / (1 + Math.exp(LN10 * h * (data.x[i]! - m)));
    sig += Math.log(s.sigma[k]!);
  }
  for (let i = 0; i < n; i++) vRef[i] = vRef[i]! / S;
  return { vRef, sigma: Math.exp(sig / S) };
}

/** Bounds that hold all but `tail` of a marginal's mass, widened by `pad` cells each side. */
export function massBounds(
  centresArr: Float64Array,
  step: number,
  marginal: Float64Array,
  tail: number,
  pad: number,
): { lo: number; hi: number } {
  let lo = 0;
  let acc = 0;
  while (lo < marginal.length - 1 && acc + marginal[lo]! < tail) acc += marginal[lo++]!;
  let hi = marginal.length - 1;
  acc = 0;
  while (hi > lo && acc + marginal[hi]! < tail) acc += marginal[hi--]!;
  return {
    lo: centresArr[lo]! - step / 2 - pad * step,
    hi: centresArr[hi]! + step / 2 + pad * step,
  };
}
