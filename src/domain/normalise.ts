import type { ExperimentOutcome } from './types';

/**
 * Readouts mean something only relative to vehicle controls on the same plate: the normalised
 * response of a treated well is its signal over the mean signal of the same line's successful
 * vehicle wells on that plate. Wells whose plate has no usable control for their line stay
 * unnormalised, and the learner never sees them.
 */
export function normalisePlates(outcomes: ExperimentOutcome[]): ExperimentOutcome[] {
  const controlSignals = new Map<string, number[]>();
  for (const o of outcomes) {
    if (o.proposal.isControl && o.status === 'succeeded' && o.readout) {
      const key = `${o.location.plateId}|${o.proposal.cellLine}`;
      controlSignals.set(key, [...(controlSignals.get(key) ?? []), o.readout.signal]);
    }
  }
  return outcomes.map((o) => {
    if (o.status !== 'succeeded' || !o.readout) return o;
    const signals = controlSignals.get(`${o.location.plateId}|${o.proposal.cellLine}`);
    if (!signals || signals.length === 0) return o;
    const mean = signals.reduce((s, v) => s + v, 0) / signals.length;
    if (!(mean > 0)) return o;
    return { ...o, normalisedResponse: Math.round((o.readout.signal / mean) * 1e5) / 1e5 };
  });
}
