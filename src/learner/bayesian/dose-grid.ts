/**
 * Doses the liquid handler can make: a dilution grid anchored at the top of the allowed range,
 * dose_k = max · 10^(-k · step). The default step of 1/16 log (1:1.155) lines up with half-log
 * points every eighth step; it is fine because the learner never repeats a dose on a pair, so
 * neighbouring grid points stand in for replicates where the curve is most informative.
 */
export interface DilutionGrid {
  anchorLog10: number;
  stepLog10: number;
}

export const DEFAULT_GRID_STEP_LOG10 = 1 / 16;
const EPS = 1e-9;

/** Grid points (log10 µM) inside [lo, hi], ascending. */
export function gridPointsLog10(grid: DilutionGrid, lo: number, hi: number): number[] {
  const kMin = Math.ceil((grid.anchorLog10 - hi) / grid.stepLog10 - EPS);
  const kMax = Math.floor((grid.anchorLog10 - lo) / grid.stepLog10 + EPS);
  const out: number[] = [];
  for (let k = kMax; k >= kMin; k--) out.push(roundLog10(grid.anchorLog10 - k * grid.stepLog10));
  return out;
}

export function snapLog10(grid: DilutionGrid, log10Dose: number): number {
  const k = Math.round((grid.anchorLog10 - log10Dose) / grid.stepLog10);
  return roundLog10(grid.anchorLog10 - k * grid.stepLog10);
}

/** µM for a grid point, rounded to 6 significant figures so it prints and compares cleanly. */
export function doseMicromolar(log10Dose: number): number {
  return Number(Math.pow(10, log10Dose).toPrecision(6));
}

/** Key that identifies a dose up to rounding, so tried doses match grid doses. */
export function doseKey(doseMicromolarValue: number): string {
  return Math.log10(doseMicromolarValue).toFixed(4);
}

function roundLog10(x: number): number {
  return Math.round(x * 1e9) / 1e9;
}
