import { describe, expect, it } from 'vitest';
import type { Observation } from '../../src/domain/types';
import { bayesianProposer, createBayesianProposer, selectivityWindows } from '../../src/learner/bayesian/index';
import { RandomStream } from '../../src/learner/bayesian/rng';
import { inputFrom, settings, standardObservations, type Truth } from './helpers';

const log10 = Math.log10;

function doses(out: ReturnType<typeof bayesianProposer.propose>, cellLine?: string): number[] {
  return out.proposals
    .filter((p) => !p.isControl && (!cellLine || p.cellLine === cellLine))
    .map((p) => log10(p.doseMicromolar));
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

describe('acquisition goes where each objective needs it', () => {
  const truth: Truth = { log10Ic50: log10(0.3), hill: 1.2, top: 1, bottom: 0.05 };
  const obs = standardObservations(truth, 1, 0.07, new RandomStream(11));

  it('ic50: doses bracket the current IC50 estimate instead of sitting on the plateaus', () => {
    // A tight goal and a generous well cap, so the learner wants the whole batch.
    const eager = createBayesianProposer({ maxWellsPerPair: 96 });
    const input = inputFrom(settings({ objective: { type: 'ic50', halfWidthLog10: 0.05 } }), obs, { maxTreatments: 6 });
    const estimate = eager.analyse(input).pairs[0]!.summary.log10Ic50.median;
    const xs = doses(eager.propose(input));
    expect(xs.length).toBeGreaterThanOrEqual(3);
    expect(Math.min(...xs)).toBeLessThan(estimate);
    expect(Math.max(...xs)).toBeGreaterThan(estimate);
    // Most wells within a log of the IC50, where the curve is informative about it.
    expect(xs.filter((x) => Math.abs(x - estimate) < 1).length).toBeGreaterThanOrEqual(Math.ceil(xs.length * 0.6));
  });

  it('target: doses move up to the dose giving the stated response (IC90)', () => {
    const input = inputFrom(settings({ objective: { type: 'target', response: 0.1, halfWidthLog10: 0.1 } }), obs, {
      maxTreatments: 6,
    });
    const pair = bayesianProposer.analyse(input).pairs[0]!;
    const ic90 = pair.summary.goal!.interval.median;
    expect(ic90).toBeGreaterThan(pair.summary.log10Ic50.median + 0.3);
    const xs = doses(bayesianProposer.propose(input));
    expect(Math.abs(median(xs) - ic90)).toBeLessThan(0.6);
    expect(median(xs)).toBeGreaterThan(pair.summary.log10Ic50.median);
  });

  it('selectivity: doses fall in the window between the kill line and the spare line', () => {
    const kill: Truth = { log10Ic50: log10(0.05), hill: 1.2, top: 1, bottom: 0.02 };
    const spare: Truth = { log10Ic50: log10(5), hill: 1.2, top: 1, bottom: 0.02 };
    const rng = new RandomStream(12);
    const data: Observation[] = [
      ...standardObservations(kill, 1, 0.05, rng, 'HeLa', 'doxorubicin'),
      ...standardObservations(spare, 1, 0.05, rng, 'RPE1', 'doxorubicin'),
    ];
    const s = settings({
      cellLines: ['HeLa', 'RPE1'],
      objective: { type: 'selectivity', killLine: 'HeLa', spareLine: 'RPE1', killBelow: 0.3, spareAbove: 0.7 },
    });
    const input = inputFrom(s, data, { maxTreatments: 8 });
    const analysis = bayesianProposer.analyse(input);
    const [window] = selectivityWindows(analysis, s.objective);
    expect(window!.probWindowExists).toBeGreaterThan(0.95);
    const out = bayesianProposer.propose(input);
    const all = doses(out);
    expect(all.length).toBeGreaterThan(0);
    // Between the two curves' IC50s, give or take the width of a bend.
    for (const x of all) {
      expect(x).toBeGreaterThan(kill.log10Ic50 - 0.3);
      expect(x).toBeLessThan(spare.log10Ic50 + 0.3);
    }
    // Each line's doses sit near its own edge of the window.
    const killXs = doses(out, 'HeLa');
    const spareXs = doses(out, 'RPE1');
    if (killXs.length) expect(Math.abs(median(killXs) - window!.killEdge.median)).toBeLessThan(0.6);
    if (spareXs.length) expect(Math.abs(median(spareXs) - window!.spareEdge.median)).toBeLessThan(0.6);
  });

  it('minimize / maximize: expected improvement goes where the lowest / highest response may be', () => {
    // Doxorubicin's whole curve is known (it bottoms out at 0.5); paclitaxel was only read at low
    // doses, so its bottom is unknown and may lie lower.
    const incomplete: Truth = { log10Ic50: log10(0.1), hill: 1.3, top: 1, bottom: 0.5 };
    const unexplored: Truth = { log10Ic50: log10(0.3), hill: 1.2, top: 1, bottom: 0.05 };
    const rng = new RandomStream(13);
    const lowOnly = standardObservations(unexplored, 1, 0.05, rng, 'HeLa', 'paclitaxel').filter(
      (o) => o.doseMicromolar < 0.05,
    );
    const data = [...standardObservations(incomplete, 2, 0.05, rng, 'HeLa', 'doxorubicin'), ...lowOnly];
    const base = settings({ compounds: ['doxorubicin', 'paclitaxel'] });
    const min = bayesianProposer.propose(
      inputFrom({ ...base, objective: { type: 'minimize' } }, data, { maxTreatments: 4 }),
    );
    const minTreat = min.proposals.filter((p) => !p.isControl);
    expect(minTreat.length).toBeGreaterThan(0);
    expect(minTreat.filter((p) => p.compound === 'paclitaxel').length).toBeGreaterThanOrEqual(3);
    expect(median(doses(min))).toBeGreaterThan(log10(0.3));
    const max = bayesianProposer.propose(
      inputFrom({ ...base, objective: { type: 'maximize' } }, data, { maxTreatments: 4 }),
    );
    const maxXs = doses(max);
    // The highest response is the top plateau at low dose, already well read: little to gain.
    if (maxXs.length > 0) expect(median(maxXs)).toBeLessThan(log10(0.05));
    else expect(max.finished?.reason).toBe('goal reached');
  });
});
