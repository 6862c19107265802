import { describe, expect, it } from 'vitest';
import { pairKey } from '../../src/domain/types';
import { bayesianProposer } from '../../src/learner/bayesian/index';
import { RandomStream } from '../../src/learner/bayesian/rng';
import type { ProposeInput } from '../../src/learner/proposer';
import { inputFrom, settings, standardObservations, type Truth } from './helpers';

const panel = settings({
  cellLines: ['HeLa', 'U2OS', 'CHO'],
  compounds: ['doxorubicin', 'cisplatin'],
  controlsPerLine: 3,
});

function treatments(input: ProposeInput) {
  return bayesianProposer.propose(input).proposals.filter((p) => !p.isControl);
}

describe('batch constraints', () => {
  it('fills the batch with distinct, untried grid doses inside the range', () => {
    const truth: Truth = { log10Ic50: -1, hill: 1.2, top: 1, bottom: 0.05 };
    const obs = standardObservations(truth, 1, 0.05, new RandomStream(1), 'HeLa', 'doxorubicin');
    const input = inputFrom(panel, obs, { maxTreatments: 30 });
    const out = bayesianProposer.propose(input);
    const ts = out.proposals.filter((p) => !p.isControl);
    expect(ts.length).toBe(30);
    const keys = ts.map((p) => `${pairKey(p.cellLine, p.compound)}@${p.doseMicromolar}`);
    expect(new Set(keys).size).toBe(keys.length);
    const tried = new Set(
      input.triedDoses.map((t) => `${pairKey(t.cellLine, t.compound)}@${Math.log10(t.doseMicromolar).toFixed(4)}`),
    );
    for (const p of ts) {
      expect(tried.has(`${pairKey(p.cellLine, p.compound)}@${Math.log10(p.doseMicromolar).toFixed(4)}`)).toBe(false);
      expect(p.doseMicromolar).toBeGreaterThanOrEqual(panel.doseRange.minMicromolar * 0.9999);
      expect(p.doseMicromolar).toBeLessThanOrEqual(panel.doseRange.maxMicromolar * 1.0001);
      // On the 1/16-log dilution grid anchored at the top of the range.
      const steps = (Math.log10(panel.doseRange.maxMicromolar) - Math.log10(p.doseMicromolar)) * 16;
      expect(Math.abs(steps - Math.round(steps))).toBeLessThan(1e-3);
      expect(p.assay).toBe('viability');
    }
    expect(ts.map((p) => p.proposalId)).toEqual(ts.map((_, i) => `i1-e${String(i + 1).padStart(2, '0')}`));
  });

  it('spreads a first batch over every pair and over several doses per pair', () => {
    const ts = treatments(inputFrom(panel, [], { maxTreatments: 36 }));
    const byPair = new Map<string, number[]>();
    for (const p of ts)
      byPair.set(pairKey(p.cellLine, p.compound), [
        ...(byPair.get(pairKey(p.cellLine, p.compound)) ?? []),
        p.doseMicromolar,
      ]);
    expect(byPair.size).toBe(6);
    for (const doses of byPair.values()) {
      expect(doses.length).toBeGreaterThanOrEqual(4);
      const logs = doses.map(Math.log10);
      expect(Math.max(...logs) - Math.min(...logs)).toBeGreaterThan(1.5);
    }
  });

  it('adds vehicle controls for each line used, after the treatments', () => {
    const out = bayesianProposer.propose(inputFrom(panel, [], { maxTreatments: 4 }));
    const lines = [...new Set(out.proposals.filter((p) => !p.isControl).map((p) => p.cellLine))];
    const controls = out.proposals.filter((p) => p.isControl);
    expect(controls.length).toBe(lines.length * 3);
    for (const c of controls) {
      expect(c.doseMicromolar).toBe(0);
      expect(lines).toContain(c.cellLine);
      expect(c.proposalId).toMatch(/^i1-c\d{2}$/);
    }
    const firstControl = out.proposals.findIndex((p) => p.isControl);
    expect(out.proposals.slice(firstControl).every((p) => p.isControl)).toBe(true);
  });

  it('respects a budget of zero or one treatment', () => {
    expect(treatments(inputFrom(panel, [], { maxTreatments: 0 }))).toHaveLength(0);
    expect(bayesianProposer.propose(inputFrom(panel, [], { maxTreatments: 0 })).proposals).toHaveLength(0);
    expect(treatments(inputFrom(panel, [], { maxTreatments: 1 }))).toHaveLength(1);
  });

  it('stops with "goal reached" once every pair is answered', () => {
    const truth: Truth = { log10Ic50: -0.7, hill: 1.3, top: 1, bottom: 0.03 };
    const obs = standardObservations(truth, 6, 0.03, new RandomStream(3));
    const out = bayesianProposer.propose(inputFrom(settings(), obs));
    expect(out.estimates[0]!.state).toBe('answered');
    expect(out.finished?.reason).toBe('goal reached');
    expect(out.proposals).toHaveLength(0);
  });
});

describe('determinism', () => {
  it('gives the same batch and estimates for the same input and seed', () => {
    const truth: Truth = { log10Ic50: -1.2, hill: 1, top: 1, bottom: 0.2 };
    const obs = standardObservations(truth, 1, 0.07, new RandomStream(4), 'U2OS', 'cisplatin');
    const a = bayesianProposer.propose(inputFrom(panel, obs, { maxTreatments: 24 }));
    const b = bayesianProposer.propose(inputFrom(panel, structuredClone(obs), { maxTreatments: 24 }));
    expect(b).toEqual(a);
  });
});
