import { RandomStream, seedFrom } from '../../src/learner/bayesian/rng';
import type { NoiseScenario, TrueCurve } from './simulator';

/**
 * Ground truths and noise for the benchmark scenarios. The tested range is that of the standard
 * design: an 8-point 1:3 series from 10 µM down to 10/3^7 ≈ 0.0046 µM (3.34 log units).
 * Truths follow DOMAIN.md: log h ~ N(log 1.2, 0.4) clipped to [0.3, 5]; incomplete kill
 * (bottom 0.1-0.5) in about a third of curves; top 1 ± 3% (vehicle-normalised).
 */

export const RANGE_MAX_UM = 10;
export const RANGE_MIN_UM = 10 / 3 ** 7;
export const RANGE_LOG10 = { lo: Math.log10(RANGE_MIN_UM), hi: Math.log10(RANGE_MAX_UM) };

export type ScenarioName = 'base' | 'harsh';

export interface CurveScenario {
  name: ScenarioName;
  noise: NoiseScenario;
  /** How far beyond the tested range the true IC50 may lie (log10 units). */
  beyondRangeLog10: number;
  /** Range extension factor given to the learner. */
  rangeExtensionFactor: number;
}

export const SCENARIOS: Record<ScenarioName, CurveScenario> = {
  base: {
    name: 'base',
    noise: {
      wellCv: 0.07,
      blankSd: 0.01,
      plateEffectSd: 0.05,
      edgeLoss: [0, 0],
      outlierRate: 0,
      plateLossRate: 0,
      controlsPerLine: 4,
    },
    beyondRangeLog10: -0.25, // inside the range, at least a quarter log from either end
    rangeExtensionFactor: 1,
  },
  harsh: {
    name: 'harsh',
    noise: {
      wellCv: 0.1,
      blankSd: 0.015,
      plateEffectSd: 0.08,
      edgeLoss: [0.05, 0.15],
      outlierRate: 0.02,
      plateLossRate: 0.01,
      controlsPerLine: 4,
    },
    beyondRangeLog10: 0.5,
    rangeExtensionFactor: Math.sqrt(10),
  },
};

export function drawHill(rng: RandomStream): number {
  return Math.min(5, Math.max(0.3, Math.exp(Math.log(1.2) + 0.4 * rng.normal())));
}

export function drawBottom(rng: RandomStream): number {
  return rng.uniform() < 0.65 ? 0.1 * rng.uniform() : 0.1 + 0.4 * rng.uniform();
}

export function drawCurve(scenario: CurveScenario, seed: number, index: number): TrueCurve {
  const rng = new RandomStream(seedFrom(seed, scenario.name, 'truth', index));
  const lo = RANGE_LOG10.lo - scenario.beyondRangeLog10;
  const hi = RANGE_LOG10.hi + scenario.beyondRangeLog10;
  return {
    log10Ic50: lo + rng.uniform() * (hi - lo),
    hill: drawHill(rng),
    top: 1 + 0.03 * rng.normal(),
    bottom: drawBottom(rng),
  };
}

/** Portfolio panel: 8 lines × 8 compounds, about a third of pairs inactive or out of range. */
export interface PortfolioPair {
  cellLine: string;
  compound: string;
  truth: TrueCurve;
  kind: 'active' | 'inactive' | 'out of range';
}

export const PORTFOLIO_LINES = ['HEK293T', 'HeLa', 'Jurkat', 'U2OS', 'CHO', 'A549', 'HepG2', 'iPSC'];
export const PORTFOLIO_COMPOUNDS = [
  'staurosporine',
  'tunicamycin',
  'doxorubicin',
  'cisplatin',
  'paclitaxel',
  'H2O2',
  'cpd-7',
  'cpd-8',
];

export function drawPortfolio(seed: number, index: number): PortfolioPair[] {
  const rng = new RandomStream(seedFrom(seed, 'portfolio', index));
  const pairs: PortfolioPair[] = [];
  const compoundMeans = PORTFOLIO_COMPOUNDS.map(() => ({
    m: RANGE_LOG10.lo + 0.6 + rng.uniform() * (RANGE_LOG10.hi - RANGE_LOG10.lo - 1.2),
    h: drawHill(rng),
    b: drawBottom(rng),
  }));
  for (const line of PORTFOLIO_LINES)
    PORTFOLIO_COMPOUNDS.forEach((compound, c) => {
      const cm = compoundMeans[c]!;
      // Line-by-drug scatter of log IC50 SD 0.4 (DOMAIN.md: 0.3-0.5), clipped into the range.
      const m = Math.min(RANGE_LOG10.hi - 0.25, Math.max(RANGE_LOG10.lo + 0.25, cm.m + 0.4 * rng.normal()));
      const truth: TrueCurve = {
        log10Ic50: m,
        hill: Math.min(5, Math.max(0.3, cm.h * Math.exp(0.1 * rng.normal()))),
        top: 1 + 0.03 * rng.normal(),
        bottom: Math.min(0.55, Math.max(0, cm.b + 0.03 * rng.normal())),
      };
      pairs.push({ cellLine: line, compound, truth, kind: 'active' });
    });
  // About a third of the pairs: half inactive (no effect in range), half with the IC50 well
  // outside the range (above or below).
  const order = pairs.map((_, i) => i);
  for (let i = order.length - 1; i > 0; i--) {
    const k = Math.floor(rng.uniform() * (i + 1));
    [order[i], order[k]] = [order[k]!, order[i]!];
  }
  order.slice(0, 21).forEach((idx, j) => {
    const p = pairs[idx]!;
    if (j % 2 === 0) {
      p.kind = 'inactive';
      p.truth = { ...p.truth, log10Ic50: RANGE_LOG10.hi + 1.5 + 1.5 * rng.uniform() };
    } else {
      p.kind = 'out of range';
      const below = rng.uniform() < 0.5;
      const d = 0.8 + 0.7 * rng.uniform();
      p.truth = { ...p.truth, log10Ic50: below ? RANGE_LOG10.lo - d : RANGE_LOG10.hi + d };
    }
  });
  return pairs;
}
