import type { Observation } from '../../domain/types';
import type { NoisePrior } from './posterior';
import type { CurvePriorSpec } from './priors';

/**
 * The noise SD is shared strength: every pair of a campaign is read on the same instrument, so the
 * scatter of vehicle wells and the residuals of the other pairs say how noisy this pair's wells
 * are. Each pair gets a log-normal prior on σ centred on that pooled estimate (leave-one-out, so a
 * pair's own residuals are not counted twice), with a spread that shrinks as the pooled degrees of
 * freedom grow but never below the between-pair spread, since lines differ in noise.
 */

const BETWEEN_PAIR_LOG_SD = 0.2;

export interface ScatterSummary {
  /** Sum of squared deviations in units of the noise at the top of the curve. */
  ss: number;
  dof: number;
}

/**
 * Vehicle controls are normalised by their own plate mean, so within a (plate, line) group the
 * deviations sum to zero: k wells carry k-1 degrees of freedom about σ.
 */
export function controlScatter(controls: readonly Observation[] | undefined): ScatterSummary {
  if (!controls || controls.length === 0) return { ss: 0, dof: 0 };
  const groups = new Map<string, number[]>();
  for (const c of controls) {
    if (!Number.isFinite(c.response)) continue;
    const key = `${c.plateId}|${c.cellLine}`;
    const list = groups.get(key);
    if (list) list.push(c.response);
    else groups.set(key, [c.response]);
  }
  let ss = 0;
  let dof = 0;
  for (const values of groups.values()) {
    if (values.length < 2) continue;
    const mean = values.reduce((s, v) => s + v, 0) / values.length;
    // A grossly off control (a failed well) would dominate; clip each deviation at 0.3.
    for (const v of values) ss += Math.min(0.09, (v - mean) ** 2);
    dof += values.length - 1;
  }
  return { ss, dof };
}

export function defaultNoisePrior(spec: CurvePriorSpec): NoisePrior {
  return { logMean: Math.log(spec.noise.sdAtTop), logSd: spec.noise.logSd };
}

/** Prior on log σ from pooled scatter; falls back to the stated prior with no pooled data. */
export function pooledNoisePrior(spec: CurvePriorSpec, pooled: ScatterSummary): NoisePrior {
  if (pooled.dof < 1 || !(pooled.ss > 0)) return defaultNoisePrior(spec);
  const estimate = Math.sqrt(pooled.ss / pooled.dof);
  // Combine with the stated prior as one more (weak) source, precision-weighted in log space.
  const dataSd = Math.sqrt(1 / (2 * pooled.dof));
  const w1 = 1 / (dataSd * dataSd);
  const w0 = 1 / (spec.noise.logSd * spec.noise.logSd);
  const logMean = (w1 * Math.log(estimate) + w0 * Math.log(spec.noise.sdAtTop)) / (w1 + w0);
  const sd = Math.sqrt(1 / (w1 + w0) + BETWEEN_PAIR_LOG_SD * BETWEEN_PAIR_LOG_SD);
  return { logMean, logSd: sd };
}
