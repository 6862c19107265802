import { describe, expect, it } from 'vitest';
import { curveResponse, posteriorCurveBand } from '../../src/learner/bayesian/index';

function samples(values: { m: number; h: number; top: number; bottom: number }[]) {
  return {
    m: Float64Array.from(values, (v) => v.m),
    h: Float64Array.from(values, (v) => v.h),
    top: Float64Array.from(values, (v) => v.top),
    bottom: Float64Array.from(values, (v) => v.bottom),
    sigma: Float64Array.from(values, () => 0.05),
  };
}

describe('posterior curve band', () => {
  it('collapses onto the curve when every sample agrees', () => {
    const p = { m: -1, h: 1.2, top: 1, bottom: 0.05 };
    const band = posteriorCurveBand(samples([p, p, p]), [-3, -1, 1]);
    for (const b of band) {
      const v = curveResponse({ log10Ic50: p.m, hill: p.h, top: p.top, bottom: p.bottom }, b.log10Dose);
      expect(b.median).toBeCloseTo(v, 12);
      expect(b.lo).toBeCloseTo(v, 12);
      expect(b.hi).toBeCloseTo(v, 12);
    }
    expect(band[1]!.median).toBeCloseTo(0.525, 12);
  });

  it('orders lo ≤ median ≤ hi and is widest where the samples disagree on the IC50', () => {
    const s = Array.from({ length: 200 }, (_, k) => ({ m: -1.5 + k / 199, h: 1.2, top: 1, bottom: 0 }));
    const band = posteriorCurveBand(samples(s), [-4, -1, 2]);
    for (const b of band) {
      expect(b.lo).toBeLessThanOrEqual(b.median);
      expect(b.median).toBeLessThanOrEqual(b.hi);
    }
    const width = band.map((b) => b.hi - b.lo);
    expect(width[1]!).toBeGreaterThan(width[0]! + 0.3);
    expect(width[1]!).toBeGreaterThan(width[2]! + 0.3);
  });

  it('refuses a level outside (0, 1)', () => {
    expect(() => posteriorCurveBand(samples([]), [0], 1)).toThrow(/level/);
  });
});
