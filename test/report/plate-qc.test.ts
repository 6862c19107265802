import { describe, expect, it } from 'vitest';
import type { ExperimentOutcome } from '../../src/domain/types';
import { coefficientOfVariation, plateQc, sampleSd, zPrime } from '../../src/report/plate-qc';

function well(
  plateId: string,
  index: number,
  isControl: boolean,
  response: number | undefined,
  status: 'succeeded' | 'failed' = 'succeeded',
): ExperimentOutcome {
  return {
    proposal: {
      proposalId: `${plateId}-${index}`,
      cellLine: 'HeLa',
      compound: isControl ? '' : 'doxorubicin',
      doseMicromolar: isControl ? 0 : 1,
      assay: 'viability',
      isControl,
    },
    location: { plateId, well: `B${index + 2}` },
    experimentWorkflowId: `campaign-t/${plateId}-${index}`,
    status,
    ...(response !== undefined ? { normalisedResponse: response, readout: { assay: 'viability', signal: 1 } } : {}),
    costUsd: 1,
    iteration: 1,
  };
}

describe('Z′ maths', () => {
  it('is 1 − 3 (sd₊ + sd₋) / |mean₊ − mean₋| with sample SDs', () => {
    // positive: mean 0.1, sd 0.1; negative: mean 1, sd 0.1 → 1 − 3·0.2/0.9 = 1/3.
    const positive = [0, 0.1, 0.2];
    const negative = [0.9, 1, 1.1];
    expect(sampleSd(positive)).toBeCloseTo(0.1, 12);
    expect(zPrime(positive, negative)).toBeCloseTo(1 - (3 * 0.2) / 0.9, 12);
  });

  it('is 1 for perfectly tight groups and negative when the bands overlap', () => {
    expect(zPrime([0, 0], [1, 1])).toBe(1);
    expect(zPrime([0.4, 0.6], [0.5, 0.7])!).toBeLessThan(0);
  });

  it('is symmetric in its groups', () => {
    expect(zPrime([0.9, 1.05, 1], [0.1, 0.05])).toBeCloseTo(zPrime([0.1, 0.05], [0.9, 1.05, 1])!, 12);
  });

  it('is not available with fewer than two wells in a group or no window', () => {
    expect(zPrime([0.1], [1, 1.1])).toBeUndefined();
    expect(zPrime([1, 1], [1, 1])).toBeUndefined();
  });

  it('gives the CV as SD over mean', () => {
    expect(coefficientOfVariation([0.9, 1, 1.1])).toBeCloseTo(0.1, 12);
    expect(coefficientOfVariation([1])).toBeUndefined();
  });
});

describe('plate QC rows', () => {
  it('compares the vehicle wells with as many most-killed treatment wells, and ignores failed wells', () => {
    const outcomes = [
      well('p1', 0, true, 0.98),
      well('p1', 1, true, 1.02),
      well('p1', 2, true, 1.0),
      well('p1', 3, false, 0.05),
      well('p1', 4, false, 0.08),
      well('p1', 5, false, 0.11),
      well('p1', 6, false, 0.6),
      well('p1', 7, false, undefined, 'failed'),
      well('p2', 0, true, 1),
    ];
    const [p1, p2] = plateQc(outcomes);
    expect(p1).toMatchObject({ plateId: 'p1', wells: 8, failedWells: 1, vehicleWells: 3, killedWells: 3 });
    expect(p1!.killedMean).toBeCloseTo(0.08, 12);
    expect(p1!.zPrime).toBeCloseTo(zPrime([0.05, 0.08, 0.11], [0.98, 1.02, 1.0])!, 12);
    expect(p1!.vehicleCv).toBeCloseTo(0.02, 12);
    // One vehicle well and no treatment: no Z′, no CV, and no made-up zeros.
    expect(p2).toMatchObject({ plateId: 'p2', vehicleWells: 1, killedWells: 0 });
    expect(p2!.zPrime).toBeUndefined();
    expect(p2!.vehicleCv).toBeUndefined();
  });
});
