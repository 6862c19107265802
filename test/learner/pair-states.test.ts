import { describe, expect, it } from 'vitest';
import type { Observation, PairEstimate } from '../../src/domain/types';
import { createBayesianProposer } from '../../src/learner/bayesian/index';
import { RandomStream } from '../../src/learner/bayesian/rng';
import type { ProposeInput, ProposeOutput, ProposerSettings } from '../../src/learner/proposer';
import { STANDARD_MAX, noisyResponse, settings, type Truth } from './helpers';

/**
 * Where a pair ends and what it reports: inactive and out-of-range pairs found in a few wells with
 * one-sided bounds, extension resolving an IC50 just beyond the top, and no pair given up while it
 * could still reach its goal (only the well cap stops it short, and rejected wells do not count).
 */

const learner = createBayesianProposer();

interface Run {
  history: { estimate: PairEstimate; out: ProposeOutput }[];
  final: PairEstimate;
  doses: number[];
  finished?: ProposeOutput['finished'];
}

/** A closed loop on one synthetic pair: `perRound` wells a round, 4 vehicle wells per plate. */
function run(truth: Truth, s: ProposerSettings, rounds: number, perRound = 3, seed = 3): Run {
  const rng = new RandomStream(seed);
  const observations: Observation[] = [];
  const controls: Observation[] = [];
  const triedDoses: ProposeInput['triedDoses'] = [];
  const history: Run['history'] = [];
  let finished: ProposeOutput['finished'];
  for (let r = 1; r <= rounds; r++) {
    const input: ProposeInput = {
      settings: s,
      observations,
      controlObservations: controls,
      triedDoses,
      iteration: r,
      maxTreatments: perRound,
      idPrefix: `i${r}`,
    };
    const out = learner.propose(input);
    history.push({ estimate: out.estimates[0]!, out });
    if (out.finished) {
      finished = out.finished;
      break;
    }
    const plateId = `p${r}`;
    for (const p of out.proposals) {
      const x = Math.log10(p.doseMicromolar);
      const o = { cellLine: p.cellLine, compound: p.compound, plateId, iteration: r };
      if (p.isControl) controls.push({ ...o, doseMicromolar: 0, response: 1 + 0.05 * rng.normal() });
      else {
        observations.push({ ...o, doseMicromolar: p.doseMicromolar, response: noisyResponse(truth, x, 0.06, rng) });
        triedDoses.push({ cellLine: p.cellLine, compound: p.compound, doseMicromolar: p.doseMicromolar });
      }
    }
  }
  const final = learner.propose({
    settings: s,
    observations,
    controlObservations: controls,
    triedDoses,
    iteration: rounds + 1,
    maxTreatments: 0,
    idPrefix: 'end',
  }).estimates[0]!;
  return { history, final, doses: observations.map((o) => o.doseMicromolar), ...(finished ? { finished } : {}) };
}

const firstWells = (r: Run, pred: (e: PairEstimate) => boolean) =>
  r.history.find((h) => pred(h.estimate))?.estimate.wells;

describe('inactive and out-of-range pairs', () => {
  it('declares a pair with no effect up to the extended top inactive within 6 wells, as "IC50 > the highest dose"', () => {
    const truth: Truth = { log10Ic50: Math.log10(500), hill: 1.5, top: 1, bottom: 0 };
    const r = run(truth, settings({ rangeExtensionFactor: 10 }), 6);
    expect(firstWells(r, (e) => e.state === 'inactive')).toBeLessThanOrEqual(6);
    expect(r.final.state).toBe('inactive');
    // It tried the extension before giving up: its bound is the extended top, not the configured one.
    const highest = Math.max(...r.doses);
    expect(highest).toBeGreaterThan(STANDARD_MAX * 3);
    expect(r.final.relativeIc50).toEqual({
      micromolar: null,
      lowMicromolar: Number(highest.toPrecision(3)),
      highMicromolar: null,
      supported: false,
    });
    expect(r.final.ic50Micromolar).toBeUndefined();
    expect(r.final.ic50HighMicromolar).toBeUndefined();
    expect(r.final.note).toContain(`IC50 > ${Number(highest.toPrecision(3))} µM`);
    expect(r.finished?.reason).toBe('goal reached');
  });

  it('without extension, flags an IC50 above the range within 8 wells and gives only a lower bound', () => {
    const truth: Truth = { log10Ic50: Math.log10(80), hill: 1.2, top: 1, bottom: 0 };
    const r = run(truth, settings({ rangeExtensionFactor: 1 }), 6);
    expect(firstWells(r, (e) => e.outOfRange === 'above')).toBeLessThanOrEqual(8);
    expect(['out of range', 'inactive']).toContain(r.final.state);
    expect(r.final.relativeIc50?.highMicromolar).toBeNull();
    expect(r.final.relativeIc50?.lowMicromolar).toBeLessThanOrEqual(STANDARD_MAX);
    expect(Math.max(...r.doses)).toBeLessThanOrEqual(STANDARD_MAX * (1 + 1e-9));
  });

  it('flags an IC50 just beyond the top within 8 wells and resolves it by extending the doses', () => {
    const truth: Truth = { log10Ic50: Math.log10(16), hill: 1.3, top: 1, bottom: 0 };
    const r = run(truth, settings({ rangeExtensionFactor: 10, objective: { type: 'ic50', halfWidthLog10: 0.2 } }), 8);
    expect(firstWells(r, (e) => e.outOfRange === 'above')).toBeLessThanOrEqual(8);
    expect(Math.max(...r.doses)).toBeGreaterThan(STANDARD_MAX);
    const rel = r.final.relativeIc50!;
    expect(rel.micromolar).not.toBeNull();
    expect(rel.lowMicromolar!).toBeLessThanOrEqual(16);
    expect(rel.highMicromolar!).toBeGreaterThanOrEqual(16);
    expect(r.final.doseRangeMicromolar?.max).toBeGreaterThan(STANDARD_MAX);
  });
});

describe('no early give-up', () => {
  // Shallow and incompletely killing: a wide interval for many wells.
  const hard: Truth = { log10Ic50: Math.log10(0.3), hill: 0.5, top: 1, bottom: 0.4 };

  it('keeps working on a pair with a wide interval after 8 wells, and stops only at the well cap, saying so', () => {
    const s = settings({ objective: { type: 'ic50', halfWidthLog10: 0.05 }, maxWellsPerPair: 15 });
    const r = run(hard, s, 10, 3);
    const at9 = r.history.find((h) => h.estimate.wells >= 9)!;
    expect(at9.out.finished).toBeUndefined();
    expect(at9.out.proposals.some((p) => !p.isControl)).toBe(true);
    expect(r.final.wells).toBe(15);
    expect(r.final.state).toBe('well cap');
    expect(r.final.stopReason).toMatch(/well cap \(15 wells\)/);
    expect(r.finished?.reason).toBe('pairs settled');
    expect(r.finished?.detail).toContain('1 well cap');
  });

  it('does not count rejected wells toward the cap, and never proposes them again', () => {
    const s = settings({ objective: { type: 'ic50', halfWidthLog10: 0.05 }, maxWellsPerPair: 8 });
    const rng = new RandomStream(5);
    const observations: Observation[] = [0.01, 0.1, 1, 10, 0.03, 3].map((d) => ({
      cellLine: 'HeLa',
      compound: 'doxorubicin',
      doseMicromolar: d,
      response: noisyResponse(hard, Math.log10(d), 0.06, rng),
      plateId: 'p1',
      iteration: 1,
    }));
    const rejected = [0.2, 0.4, 0.6, 0.8].map((d) => ({
      cellLine: 'HeLa',
      compound: 'doxorubicin',
      doseMicromolar: d,
      rejected: true,
    }));
    const out = learner.propose({
      settings: s,
      observations,
      triedDoses: [...observations.map((o) => ({ ...o })), ...rejected],
      iteration: 2,
      maxTreatments: 6,
      idPrefix: 'i2',
    });
    const treatments = out.proposals.filter((p) => !p.isControl);
    expect(treatments).toHaveLength(2); // 8 − 6 run; the 4 rejected do not use the cap up
    for (const t of treatments) expect(rejected.map((r) => r.doseMicromolar)).not.toContain(t.doseMicromolar);
    expect(out.estimates[0]!.state).toBe('estimating');
  });
});

describe('replicates at the ends of the range', () => {
  it('offers a tried end dose again up to three wells in all, but never a tried dose inside the range', () => {
    const truth: Truth = { log10Ic50: Math.log10(5), hill: 1, top: 1, bottom: 0.35 };
    const rng = new RandomStream(9);
    const s = settings({ rangeExtensionFactor: 1 });
    const obs = (doses: number[]): Observation[] =>
      doses.map((d) => ({
        cellLine: 'HeLa',
        compound: 'doxorubicin',
        doseMicromolar: d,
        response: noisyResponse(truth, Math.log10(d), 0.06, rng),
        plateId: 'p1',
        iteration: 1,
      }));
    const top = Math.log10(STANDARD_MAX);
    const candidatesAfter = (doses: number[]) => {
      const o = obs(doses);
      return learner.analyse({
        settings: s,
        observations: o,
        triedDoses: o.map((x) => ({ ...x })),
        iteration: 2,
        maxTreatments: 4,
        idPrefix: 'i2',
      }).pairs[0]!.candidates;
    };
    const once = candidatesAfter([STANDARD_MAX, 1, 0.1, 0.01]);
    expect(once.filter((x) => Math.abs(x - top) < 1e-9)).toHaveLength(2);
    expect(once.some((x) => Math.abs(x - 0) < 1e-9)).toBe(false); // 1 µM was run: never again
    expect(candidatesAfter([STANDARD_MAX, STANDARD_MAX, STANDARD_MAX, 1]).some((x) => Math.abs(x - top) < 1e-9)).toBe(
      false,
    );
  });
});
