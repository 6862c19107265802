import type { Observation } from '../../src/domain/types';
import { RandomStream } from '../../src/learner/bayesian/rng';

/**
 * The benchmark's own plate simulator, independent of the learner's model so that the learner is
 * judged on data it did not assume. It simulates signals, not curves: each well's luminescence is
 * S0 × plate factor × edge factor × true fraction alive × log-normal well noise + blank noise,
 * and the normalised response is the signal over the mean of the same line's vehicle wells on that
 * plate, as the lab does. The harsh scenario adds gross outliers, a per-plate edge loss on the
 * outer two rings of a 96-well plate, and whole-plate loss.
 */

export interface NoiseScenario {
  /** Log-normal well CV (CellTiter-Glo ~5-7%). */
  wellCv: number;
  /** Additive blank noise, as a fraction of the vehicle signal. */
  blankSd: number;
  /** Per-plate multiplicative effect SD (cancels in normalisation except through control noise). */
  plateEffectSd: number;
  /** Outer-ring signal loss drawn per plate from this range; the second ring loses half. */
  edgeLoss: [number, number];
  outlierRate: number;
  plateLossRate: number;
  /** Vehicle wells per line per plate. */
  controlsPerLine: number;
}

export interface TrueCurve {
  log10Ic50: number;
  hill: number;
  top: number;
  bottom: number;
}

export function trueResponse(t: TrueCurve, log10Dose: number): number {
  return t.bottom + (t.top - t.bottom) / (1 + Math.pow(10, t.hill * (log10Dose - t.log10Ic50)));
}

export interface PlateWell {
  cellLine: string;
  compound: string;
  log10Dose: number;
  truth: TrueCurve;
}

export interface PlateResult {
  lost: boolean;
  /** Normalised treatment observations in the order of the wells given. */
  observations: Observation[];
  controls: Observation[];
}

const ROWS = 8;
const COLS = 12;

function ring(pos: number): number {
  const r = Math.floor(pos / COLS);
  const c = pos % COLS;
  return Math.min(r, ROWS - 1 - r, c, COLS - 1 - c);
}

/**
 * Run one plate. Wells and controls take random positions; every random draw comes from the
 * plate's own seed, so two arms given the same seed see the same plate effects and the k-th well
 * of each sees the same noise draw.
 */
export function runPlate(
  wells: readonly PlateWell[],
  lines: readonly string[],
  scenario: NoiseScenario,
  plateId: string,
  seed: number,
  iteration: number,
): PlateResult {
  const rng = new RandomStream(seed);
  const nControls = lines.length * scenario.controlsPerLine;
  const total = wells.length + nControls;
  if (total > ROWS * COLS) throw new Error(`plate ${plateId} has ${total} wells; a 96-well plate holds 96`);
  const lost = rng.uniform() < scenario.plateLossRate;
  const plateFactor = Math.exp(scenario.plateEffectSd * rng.normal());
  const edge = scenario.edgeLoss[0] + rng.uniform() * (scenario.edgeLoss[1] - scenario.edgeLoss[0]);
  // Random layout: a shuffled list of positions, controls first then treatments.
  const positions = Array.from({ length: ROWS * COLS }, (_, i) => i);
  for (let i = positions.length - 1; i > 0; i--) {
    const k = Math.floor(rng.uniform() * (i + 1));
    [positions[i], positions[k]] = [positions[k]!, positions[i]!];
  }
  const S0 = 1;
  const signal = (fraction: number, pos: number): number => {
    const rg = ring(pos);
    const edgeFactor = rg === 0 ? 1 - edge : rg === 1 ? 1 - edge / 2 : 1;
    const z = rng.normal();
    const b = rng.normal();
    const u = rng.uniform();
    const o = rng.uniform();
    if (u < scenario.outlierRate) return S0 * plateFactor * 1.3 * o;
    const cv = scenario.wellCv;
    return S0 * plateFactor * edgeFactor * fraction * Math.exp(cv * z - (cv * cv) / 2) + scenario.blankSd * S0 * b;
  };
  const controlSignals = new Map<string, number[]>();
  const controls: { line: string; s: number }[] = [];
  let p = 0;
  for (const line of lines)
    for (let k = 0; k < scenario.controlsPerLine; k++) {
      const s = signal(1, positions[p++]!);
      controls.push({ line, s });
      controlSignals.set(line, [...(controlSignals.get(line) ?? []), s]);
    }
  const observations: Observation[] = [];
  const treated = wells.map((w) => ({ w, s: signal(trueResponse(w.truth, w.log10Dose), positions[p++]!) }));
  if (lost) return { lost, observations: [], controls: [] };
  const meanOf = (line: string): number => {
    const list = controlSignals.get(line) ?? [];
    return list.reduce((a, b) => a + b, 0) / Math.max(1, list.length);
  };
  for (const { w, s } of treated)
    observations.push({
      cellLine: w.cellLine,
      compound: w.compound,
      doseMicromolar: Math.pow(10, w.log10Dose),
      response: s / meanOf(w.cellLine),
      plateId,
      iteration,
    });
  const controlObs: Observation[] = controls.map((c) => ({
    cellLine: c.line,
    compound: '',
    doseMicromolar: 0,
    response: c.s / meanOf(c.line),
    plateId,
    iteration,
  }));
  return { lost, observations, controls: controlObs };
}
