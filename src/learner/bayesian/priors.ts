/**
 * Priors a scientist can state, in the units they think in. Defaults follow DOMAIN.md ("Learning
 * the curve"): log h ~ N(log 1.2, 0.4) clipped to [0.3, 5]; the top near 1 because responses are
 * normalised to vehicle; the bottom anywhere in [0, 0.6] because incomplete kill is common; the
 * IC50 weakly informative around the tested range.
 */
export interface CurvePriorSpec {
  /** log10 IC50 (µM). Absent: normal centred on the tested range with SD half its width + 0.5. */
  log10Ic50?: { mean: number; sd: number };
  hill: { median: number; logSd: number; min: number; max: number };
  top: { mean: number; sd: number };
  /** Normal truncated to [min, max]; the default SD makes it nearly flat on [0, 0.6]. */
  bottom: { mean: number; sd: number; min: number; max: number };
  /**
   * Well-to-well noise SD at the top of the curve (response ≈ 1), used before any control or
   * residual scatter has been seen; logSd says how sure we are of it.
   */
  noise: { sdAtTop: number; logSd: number };
  /** Share of wells that are gross outliers (bubbles, pipetting misses); modelled as a mixture. */
  outlierFraction: number;
  /**
   * Noise grows with the signal (luminescence CV is multiplicative) but has a floor from the blank:
   * SD(v) ∝ sqrt(v² + floor²).
   */
  noiseFloor: number;
  /** SD of a per-plate multiplicative shift left after normalising to the plate's vehicle wells. */
  plateEffectSd: number;
  /** How far outside the tested log range the IC50 may lie before the grid stops (log10 units). */
  ic50SupportBeyondRangeLog10: number;
}

export const DEFAULT_PRIORS: CurvePriorSpec = {
  hill: { median: 1.2, logSd: 0.4, min: 0.3, max: 5 },
  top: { mean: 1, sd: 0.07 },
  bottom: { mean: 0.1, sd: 0.5, min: 0, max: 0.6 },
  noise: { sdAtTop: 0.08, logSd: 0.7 },
  outlierFraction: 0.02,
  noiseFloor: 0.15,
  plateEffectSd: 0.02,
  ic50SupportBeyondRangeLog10: 1.5,
};

/** Priors turned into the numbers the grid needs for one campaign's dose range. */
export interface ResolvedPriors {
  mMean: number;
  mSd: number;
  mLo: number;
  mHi: number;
  logHMean: number;
  logHSd: number;
  logHLo: number;
  logHHi: number;
  topMean: number;
  topSd: number;
  bottomMean: number;
  bottomSd: number;
  bottomMin: number;
  bottomMax: number;
  outlierFraction: number;
  noiseFloor: number;
  plateEffectSd: number;
  /** Hierarchical components learnt from the compound's other lines (absent for a lone pair). */
  mShared?: { mean: number; sd: number; weight: number };
  logHShared?: { mean: number; sd: number; weight: number };
}

export function resolvePriors(
  spec: CurvePriorSpec,
  testedLog10: { lo: number; hi: number },
  supportLog10: { lo: number; hi: number },
): ResolvedPriors {
  const centre = (testedLog10.lo + testedLog10.hi) / 2;
  const half = (testedLog10.hi - testedLog10.lo) / 2;
  return {
    mMean: spec.log10Ic50?.mean ?? centre,
    mSd: spec.log10Ic50?.sd ?? half + 0.5,
    mLo: supportLog10.lo - spec.ic50SupportBeyondRangeLog10,
    mHi: supportLog10.hi + spec.ic50SupportBeyondRangeLog10,
    logHMean: Math.log(spec.hill.median),
    logHSd: spec.hill.logSd,
    logHLo: Math.log(spec.hill.min),
    logHHi: Math.log(spec.hill.max),
    topMean: spec.top.mean,
    topSd: spec.top.sd,
    bottomMean: spec.bottom.mean,
    bottomSd: spec.bottom.sd,
    bottomMin: spec.bottom.min,
    bottomMax: spec.bottom.max,
    outlierFraction: spec.outlierFraction,
    noiseFloor: spec.noiseFloor,
    plateEffectSd: spec.plateEffectSd,
  };
}
