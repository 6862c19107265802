import type { Observation, PairEstimate, Proposal } from '../domain/types';
import { pairKey } from '../domain/types';
import { settingsPairs, type ProposeInput, type ProposeOutput, type Proposer } from './proposer';

/**
 * The baseline proposer: spreads doses evenly in log dose across every (line, compound) pair,
 * never repeating a dose on a pair, with vehicle controls for each line in the batch. It learns
 * nothing beyond "where have we not looked yet", which makes it the reference the Bayesian
 * learner is compared against.
 */
export const spaceFillingProposer: Proposer = {
  propose(input: ProposeInput): ProposeOutput {
    const { settings } = input;
    const tried = new Map<string, number[]>();
    for (const t of input.triedDoses) {
      const key = pairKey(t.cellLine, t.compound);
      tried.set(key, [...(tried.get(key) ?? []), Math.log10(t.doseMicromolar)]);
    }
    const pairs = settingsPairs(settings).map((p) => ({
      ...p,
      grid: doseGrid(p.doseRange.minMicromolar, p.doseRange.maxMicromolar),
    }));

    const treatments: Proposal[] = [];
    for (let n = 0; n < input.maxTreatments; n++) {
      // The least-explored pair goes next; ties keep config order, so the design is reproducible.
      const ranked = pairs
        .map((p, order) => ({ p, order, count: tried.get(pairKey(p.cellLine, p.compound))?.length ?? 0 }))
        .sort((a, b) => a.count - b.count || a.order - b.order);
      let placed = false;
      for (const { p } of ranked) {
        const key = pairKey(p.cellLine, p.compound);
        const logDose = farthestGridPoint(p.grid, tried.get(key) ?? []);
        if (logDose === undefined) continue;
        tried.set(key, [...(tried.get(key) ?? []), logDose]);
        treatments.push({
          proposalId: `${input.idPrefix}-e${String(n + 1).padStart(2, '0')}`,
          cellLine: p.cellLine,
          compound: p.compound,
          doseMicromolar: roundDose(10 ** logDose),
          assay: settings.assay,
          isControl: false,
        });
        placed = true;
        break;
      }
      if (!placed) break; // every grid dose of every pair has been tried
    }
    const controls = vehicleControls(treatments, settings.controlsPerLine, input.idPrefix, settings.assay);
    return {
      proposals: [...treatments, ...controls],
      estimates: pairs.map((p) => interpolatedEstimate(p.cellLine, p.compound, input.observations)),
    };
  },
};

/** Candidate doses: four per decade, anchored at the top of the range, plus the bottom. */
export function doseGrid(minMicromolar: number, maxMicromolar: number): number[] {
  const lo = Math.log10(minMicromolar);
  const hi = Math.log10(maxMicromolar);
  const points: number[] = [];
  for (let x = hi; x > lo + 1e-9; x -= 0.25) points.push(x);
  points.push(lo);
  return points.sort((a, b) => a - b);
}

function farthestGridPoint(grid: number[], triedLog: number[]): number | undefined {
  let best: number | undefined;
  let bestDistance = -1;
  const mid = (grid[0]! + grid[grid.length - 1]!) / 2;
  for (const x of grid) {
    if (triedLog.some((t) => Math.abs(t - x) < 1e-6)) continue;
    // With nothing tried yet, start mid-range; then maximise the gap to the nearest tried dose.
    const distance = triedLog.length === 0 ? -Math.abs(x - mid) : Math.min(...triedLog.map((t) => Math.abs(t - x)));
    if (distance > bestDistance + 1e-9) {
      bestDistance = distance;
      best = x;
    }
  }
  return best;
}

function roundDose(doseMicromolar: number): number {
  return Number(doseMicromolar.toPrecision(4));
}

export function vehicleControls(
  treatments: Proposal[],
  perLine: number,
  idPrefix: string,
  assay: Proposal['assay'],
): Proposal[] {
  const lines = [...new Set(treatments.map((t) => t.cellLine))];
  const controls: Proposal[] = [];
  for (const cellLine of lines) {
    for (let k = 0; k < perLine; k++) {
      controls.push({
        proposalId: `${idPrefix}-c${String(controls.length + 1).padStart(2, '0')}`,
        cellLine,
        compound: '',
        doseMicromolar: 0,
        assay,
        isControl: true,
      });
    }
  }
  return controls;
}

/** IC50 by log-linear interpolation where the mean response first crosses 0.5: crude but honest. */
export function interpolatedEstimate(cellLine: string, compound: string, observations: Observation[]): PairEstimate {
  const own = observations.filter((o) => o.cellLine === cellLine && o.compound === compound);
  const byDose = new Map<number, number[]>();
  for (const o of own) byDose.set(o.doseMicromolar, [...(byDose.get(o.doseMicromolar) ?? []), o.response]);
  const points = [...byDose.entries()]
    .map(([dose, rs]) => ({ x: Math.log10(dose), y: rs.reduce((s, r) => s + r, 0) / rs.length }))
    .sort((a, b) => a.x - b.x);
  const base: PairEstimate = { cellLine, compound, wells: own.length, state: 'estimating' };
  if (points.length < 2) return { ...base, note: 'not enough doses yet' };
  for (let i = 1; i < points.length; i++) {
    const a = points[i - 1]!;
    const b = points[i]!;
    if (a.y >= 0.5 && b.y < 0.5) {
      const x = a.x + ((a.y - 0.5) / (a.y - b.y)) * (b.x - a.x);
      return {
        ...base,
        ic50Micromolar: Number((10 ** x).toPrecision(3)),
        ic50LowMicromolar: 10 ** a.x,
        ic50HighMicromolar: 10 ** b.x,
      };
    }
  }
  const allAbove = points.every((p) => p.y >= 0.5);
  return { ...base, note: allAbove ? 'IC50 above the doses tried so far' : 'IC50 below the doses tried so far' };
}
