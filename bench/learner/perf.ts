import type { Observation } from '../../src/domain/types';
import { bayesianProposer } from '../../src/learner/bayesian/index';
import { RandomStream } from '../../src/learner/bayesian/rng';
import type { ProposeInput } from '../../src/learner/proposer';

/**
 * Time to propose one 96-well batch (80 treatments + 16 controls) from 2,000 observations over
 * an 8 × 8 panel (each pair: an 8-point 1:3 series in triplicate plus a few adaptive doses), the
 * learner's per-round cost late in a realistic campaign.
 */

export interface PerfResult {
  observations: number;
  pairs: number;
  /** First call, including JIT warm-up. */
  firstMs: number;
  /** Median of the following calls. */
  medianMs: number;
  maxMs: number;
  proposals: number;
}

export function perfInput(seed: number, observationCount = 2000): ProposeInput {
  const rng = new RandomStream(seed);
  const lines = Array.from({ length: 8 }, (_, i) => `line${i + 1}`);
  const compounds = Array.from({ length: 8 }, (_, i) => `cpd${i + 1}`);
  const lo = -3;
  const hi = 1;
  const truths = new Map<string, { m: number; h: number; b: number }>();
  for (const l of lines)
    for (const c of compounds)
      truths.set(`${l}|${c}`, {
        m: lo + rng.uniform() * (hi - lo),
        h: Math.exp(Math.log(1.2) + 0.4 * rng.normal()),
        b: 0.3 * rng.uniform(),
      });
  const observations: Observation[] = [];
  const triedDoses: ProposeInput['triedDoses'] = [];
  const perPair = Math.floor(observationCount / 64);
  let extra = observationCount - perPair * 64;
  let plate = 0;
  for (const l of lines)
    for (const c of compounds) {
      const t = truths.get(`${l}|${c}`)!;
      const n = perPair + (extra-- > 0 ? 1 : 0);
      for (let k = 0; k < n; k++) {
        // A standard 8-point 1:3 series in triplicate first, then adaptive grid doses.
        const x = k < 24 ? hi - (k % 8) * Math.log10(3) : hi - 0.25 - (k - 24) * 0.375;
        const v = t.b + (1 - t.b) / (1 + Math.pow(10, t.h * (x - t.m)));
        const dose = Number(Math.pow(10, x).toPrecision(6));
        observations.push({
          cellLine: l,
          compound: c,
          doseMicromolar: dose,
          response: v * Math.exp(0.07 * rng.normal()),
          plateId: `p${plate + Math.floor(k / 8)}`,
          iteration: Math.floor(k / 8),
        });
        triedDoses.push({ cellLine: l, compound: c, doseMicromolar: dose });
      }
      plate += 4;
    }
  return {
    settings: {
      cellLines: lines,
      compounds,
      doseRange: { minMicromolar: Math.pow(10, lo), maxMicromolar: Math.pow(10, hi) },
      assay: 'viability',
      objective: { type: 'ic50', halfWidthLog10: 0.01 }, // never answered: every pair competes for wells
      seed,
      controlsPerLine: 2,
    },
    observations,
    triedDoses,
    iteration: 5,
    maxTreatments: 80,
    idPrefix: 'perf',
  };
}

export function measureBatchTime(repeats = 5, seed = 7): PerfResult {
  const input = perfInput(seed);
  const times: number[] = [];
  let proposals = 0;
  for (let r = 0; r < repeats + 1; r++) {
    const t0 = performance.now();
    const out = bayesianProposer.propose(input);
    times.push(performance.now() - t0);
    proposals = out.proposals.length;
  }
  const rest = times.slice(1).sort((a, b) => a - b);
  return {
    observations: input.observations.length,
    pairs: 64,
    firstMs: times[0]!,
    medianMs: rest[Math.floor(rest.length / 2)]!,
    maxMs: rest[rest.length - 1]!,
    proposals,
  };
}

if (import.meta.url === `file://${process.argv[1]}`) console.log(measureBatchTime());
