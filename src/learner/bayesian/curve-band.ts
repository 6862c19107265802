import { LN10, sampleQuantile } from './math';
import type { PosteriorSamples } from './posterior';

/**
 * The fitted dose-response curve as a reader sees it: at each dose, the posterior median response
 * and a central credible band, taken pointwise over the posterior samples of (m, h, T, B). The
 * median curve is not the curve of the median parameters (for a partial curve the two differ);
 * it is what the band is centred on, so the plot stays honest.
 */
export interface CurveBandPoint {
  log10Dose: number;
  median: number;
  lo: number;
  hi: number;
}

/** Pointwise posterior quantiles of the 4PL response at `log10Doses`; `level` 0.95 gives the 2.5% and 97.5% ends. */
export function posteriorCurveBand(
  samples: PosteriorSamples,
  log10Doses: readonly number[],
  level = 0.95,
): CurveBandPoint[] {
  if (!(level > 0 && level < 1)) throw new RangeError(`level must lie strictly between 0 and 1 (got ${level})`);
  const S = samples.m.length;
  if (S === 0) return [];
  const tail = (1 - level) / 2;
  const v = new Float64Array(S);
  return log10Doses.map((x) => {
    for (let k = 0; k < S; k++) {
      const top = samples.top[k]!;
      const bottom = samples.bottom[k]!;
      v[k] = bottom + (top - bottom) / (1 + Math.exp(LN10 * samples.h[k]! * (x - samples.m[k]!)));
    }
    v.sort();
    return {
      log10Dose: x,
      median: sampleQuantile(v, 0.5),
      lo: sampleQuantile(v, tail),
      hi: sampleQuantile(v, 1 - tail),
    };
  });
}
