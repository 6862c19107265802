import { describe, expect, it } from 'vitest';
import { bayesianProposer } from '../../src/learner/bayesian/index';
import { RandomStream } from '../../src/learner/bayesian/rng';
import { inputFrom, settings, standardObservations, type Truth } from './helpers';

function summaryFor(truth: Truth, reps: number, cv: number, seed: number) {
  const obs = standardObservations(truth, reps, cv, new RandomStream(seed));
  const analysis = bayesianProposer.analyse(inputFrom(settings(), obs));
  return analysis.pairs[0]!.summary;
}

describe('posterior of one pair', () => {
  const truth: Truth = { log10Ic50: Math.log10(0.3), hill: 1.3, top: 1, bottom: 0.05 };

  it('recovers known parameters from noiseless data', () => {
    const s = summaryFor(truth, 3, 0, 1);
    expect(Math.abs(s.log10Ic50.median - truth.log10Ic50)).toBeLessThan(0.03);
    expect(s.log10Ic50.hi - s.log10Ic50.lo).toBeLessThan(0.1);
    expect(Math.abs(s.hill.median - truth.hill)).toBeLessThan(0.15);
    expect(Math.abs(s.bottom.median - truth.bottom)).toBeLessThan(0.03);
    expect(Math.abs(s.top.median - truth.top)).toBeLessThan(0.03);
    expect(s.relativeSupported).toBe(true);
  });

  it('recovers the IC50 within its interval from noisy data and learns the noise', () => {
    // A 95% interval misses one time in twenty, so judge ten noisy replicates of the experiment.
    const fits = Array.from({ length: 10 }, (_, k) => summaryFor(truth, 3, 0.07, 100 + k));
    const covered = fits.filter((s) => s.log10Ic50.lo <= truth.log10Ic50 && s.log10Ic50.hi >= truth.log10Ic50).length;
    expect(covered).toBeGreaterThanOrEqual(8);
    for (const s of fits) {
      expect(Math.abs(s.log10Ic50.median - truth.log10Ic50)).toBeLessThan(0.2);
      expect(s.noiseSd).toBeGreaterThan(0.035);
      expect(s.noiseSd).toBeLessThan(0.14);
    }
  });

  it('reports the absolute IC50 where the response crosses 0.5, and none for a shallow bottom', () => {
    const partial: Truth = { log10Ic50: -1, hill: 1.2, top: 1, bottom: 0.55 };
    const s = summaryFor(partial, 3, 0.03, 3);
    expect(s.probAbsoluteExists).toBeLessThan(0.5);
    expect(s.note).toContain('absolute IC50 not reached');
    const full = summaryFor(truth, 3, 0.03, 4);
    // With bottom 0.05 and top 1 the absolute IC50 sits a little below the relative one.
    expect(full.absoluteLog10Ic50.median).toBeLessThan(full.log10Ic50.median + 0.05);
    expect(full.probAbsoluteExists).toBeGreaterThan(0.95);
  });

  it('shrugs off a gross outlier well', () => {
    const obs = standardObservations(truth, 3, 0.05, new RandomStream(5));
    const mid = obs.find((o) => Math.abs(Math.log10(o.doseMicromolar) - truth.log10Ic50) < 0.3)!;
    mid.response = 1.1; // a well that missed its compound
    const s = bayesianProposer.analyse(inputFrom(settings(), obs)).pairs[0]!.summary;
    expect(Math.abs(s.log10Ic50.median - truth.log10Ic50)).toBeLessThan(0.12);
  });

  it('calls a curve with no effect in range inactive and an IC50 below the range out of range', () => {
    const flat = summaryFor({ log10Ic50: 4, hill: 1.2, top: 1, bottom: 0.1 }, 3, 0.05, 7);
    expect(flat.state).toBe('inactive');
    const below = summaryFor({ log10Ic50: -4.5, hill: 1.2, top: 1, bottom: 0.05 }, 3, 0.05, 8);
    expect(below.state).toBe('out of range');
    expect(below.note).toContain('below');
  });
});

describe('range extension', () => {
  it('asks for doses beyond the top of the range when the IC50 seems to lie there', () => {
    const truth: Truth = { log10Ic50: 1.3, hill: 1.2, top: 1, bottom: 0.05 };
    const obs = standardObservations(truth, 2, 0.05, new RandomStream(9));
    const input = inputFrom(settings({ rangeExtensionFactor: Math.sqrt(10) }), obs);
    const pair = bayesianProposer.analyse(input).pairs[0]!;
    expect(pair.summary.extended.up).toBe(true);
    expect(pair.summary.state).toBe('estimating');
    const out = bayesianProposer.propose(input);
    const doses = out.proposals.filter((p) => !p.isControl).map((p) => p.doseMicromolar);
    expect(Math.max(...doses)).toBeGreaterThan(10);
    expect(Math.max(...doses)).toBeLessThanOrEqual(10 * Math.sqrt(10) * 1.0001);
  });

  it('never leaves the configured range when no extension is allowed', () => {
    const truth: Truth = { log10Ic50: 1.3, hill: 1.2, top: 1, bottom: 0.05 };
    const obs = standardObservations(truth, 2, 0.05, new RandomStream(9));
    const out = bayesianProposer.propose(inputFrom(settings(), obs));
    for (const p of out.proposals.filter((q) => !q.isControl)) expect(p.doseMicromolar).toBeLessThanOrEqual(10);
  });
});
