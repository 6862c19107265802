import type { Objective } from '../../config/campaign-config';
import { LN10 } from './math';

/**
 * What each objective asks of a pair, as a quantity computed from one posterior curve sample:
 *  - `ic50`: the log10 relative IC50;
 *  - `target`: the log10 dose giving the stated response (e.g. 0.1 for the IC90);
 *  - `selectivity`: for the line to kill, the dose where it falls to `killBelow` (the window's
 *    lower edge); for the line to spare, the dose where it falls to `spareAbove` (the upper edge);
 *    any other line is estimated as for `ic50`;
 *  - `maximize` / `minimize`: no per-pair quantity; handled by expected improvement.
 * A curve that never reaches the response (it lies below the bottom plateau) has its dose
 * "beyond the range": it is mapped to a point past the top of the support so it counts as out of
 * range and still carries variance for the acquisition to reduce.
 */

export const SELECTIVITY_HALF_WIDTH_LOG10 = 0.1;

export type PairGoal =
  | { kind: 'ic50'; halfWidthLog10: number }
  | { kind: 'dose-for-response'; response: number; halfWidthLog10: number; label: string }
  | { kind: 'optimise'; direction: 'maximize' | 'minimize' };

export function goalFor(objective: Objective, cellLine: string): PairGoal {
  switch (objective.type) {
    case 'ic50':
      return { kind: 'ic50', halfWidthLog10: objective.halfWidthLog10 };
    case 'target':
      return {
        kind: 'dose-for-response',
        response: objective.response,
        halfWidthLog10: objective.halfWidthLog10,
        label: `dose for response ${objective.response}`,
      };
    case 'selectivity':
      if (cellLine === objective.killLine)
        return {
          kind: 'dose-for-response',
          response: objective.killBelow,
          halfWidthLog10: SELECTIVITY_HALF_WIDTH_LOG10,
          label: `kill edge (response ${objective.killBelow})`,
        };
      if (cellLine === objective.spareLine)
        return {
          kind: 'dose-for-response',
          response: objective.spareAbove,
          halfWidthLog10: SELECTIVITY_HALF_WIDTH_LOG10,
          label: `spare edge (response ${objective.spareAbove})`,
        };
      return { kind: 'ic50', halfWidthLog10: SELECTIVITY_HALF_WIDTH_LOG10 };
    case 'maximize':
    case 'minimize':
      return { kind: 'optimise', direction: objective.type };
  }
}

/**
 * The goal quantity for one curve sample. `beyond` is where a never-reached response is put.
 */
export function goalQuantity(
  goal: PairGoal,
  m: number,
  h: number,
  top: number,
  bottom: number,
  beyond: number,
): number {
  if (goal.kind !== 'dose-for-response') return m;
  const r = goal.response;
  if (r >= top) return -beyond; // already below r at any dose: potent beyond the bottom of the range
  if (r <= bottom) return beyond;
  return m + Math.log((top - r) / (r - bottom)) / (LN10 * h);
}
