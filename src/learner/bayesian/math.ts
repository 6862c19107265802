/**
 * Small numerical helpers for the posterior and acquisition code. Written here rather than pulled
 * from npm because each is a few lines and their tail behaviour matters (truncated normals with the
 * mass far from the mean appear whenever a plateau is pinned by data).
 */

export const LN10 = Math.LN10;
const SQRT_PI = Math.sqrt(Math.PI);

/** Complementary error function, fractional error < 1.2e-7 (Chebyshev fit, Numerical Recipes). */
export function erfc(x: number): number {
  const z = Math.abs(x);
  const t = 1 / (1 + 0.5 * z);
  const r =
    t *
    Math.exp(
      -z * z -
        1.26551223 +
        t *
          (1.00002368 +
            t *
              (0.37409196 +
                t *
                  (0.09678418 +
                    t *
                      (-0.18628806 +
                        t *
                          (0.27886807 + t * (-1.13520398 + t * (1.48851587 + t * (-0.82215223 + t * 0.17087277)))))))),
    );
  return x >= 0 ? r : 2 - r;
}

/** log erfc(x) that stays finite far in the upper tail, where erfc underflows. */
export function logErfc(x: number): number {
  if (x < 5) return Math.log(erfc(x));
  // Asymptotic series: erfc(x) ≈ exp(-x²) / (x √π) · (1 - 1/(2x²) + 3/(4x⁴)).
  const x2 = x * x;
  return -x2 - Math.log(x * SQRT_PI) + Math.log(1 - 1 / (2 * x2) + 3 / (4 * x2 * x2));
}

export function normalCdf(z: number): number {
  return 0.5 * erfc(-z / Math.SQRT2);
}

/** log P(a < Z < b) for a standard normal Z, accurate when both bounds sit in the same tail. */
export function logNormalInterval(a: number, b: number): number {
  if (!(b > a)) return -Infinity;
  if (a >= 0) {
    // Upper tail: P = (erfc(a/√2) - erfc(b/√2)) / 2.
    const la = logErfc(a / Math.SQRT2);
    const lb = logErfc(b / Math.SQRT2);
    return la + Math.log1p(-Math.exp(lb - la)) - Math.LN2;
  }
  if (b <= 0) return logNormalInterval(-b, -a);
  // Straddling the mean: skip a tail beyond 5.5 SD (mass < 2e-8), which is the common case.
  const lower = a < -5.5 ? 0 : 0.5 * erfc(-a / Math.SQRT2);
  const upper = b > 5.5 ? 0 : 0.5 * erfc(b / Math.SQRT2);
  return lower === 0 && upper === 0 ? 0 : Math.log(1 - lower - upper);
}

/** Inverse standard normal CDF (Acklam, relative error 1.2e-9). */
export function normalQuantile(p: number): number {
  if (p <= 0) return -Infinity;
  if (p >= 1) return Infinity;
  const a = [
    -39.69683028665376, 220.9460984245205, -275.9285104469687, 138.357751867269, -30.66479806614716, 2.506628277459239,
  ];
  const b = [-54.47609879822406, 161.5858368580409, -155.6989798598866, 66.80131188771972, -13.28068155288572];
  const c = [
    -0.007784894002430293, -0.3223964580411365, -2.400758277161838, -2.549732539343734, 4.374664141464968,
    2.938163982698783,
  ];
  const d = [0.007784695709041462, 0.3224671290700398, 2.445134137142996, 3.754408661907416];
  const pLow = 0.02425;
  if (p < pLow) {
    const q = Math.sqrt(-2 * Math.log(p));
    return (
      (((((c[0]! * q + c[1]!) * q + c[2]!) * q + c[3]!) * q + c[4]!) * q + c[5]!) /
      ((((d[0]! * q + d[1]!) * q + d[2]!) * q + d[3]!) * q + 1)
    );
  }
  if (p > 1 - pLow) return -normalQuantile(1 - p);
  const q = p - 0.5;
  const r = q * q;
  return (
    ((((((a[0]! * r + a[1]!) * r + a[2]!) * r + a[3]!) * r + a[4]!) * r + a[5]!) * q) /
    (((((b[0]! * r + b[1]!) * r + b[2]!) * r + b[3]!) * r + b[4]!) * r + 1)
  );
}

/**
 * Draw from N(mean, sd²) truncated to [lo, hi] by inverting the CDF, working in whichever tail the
 * interval lies so that bounds many SDs from the mean still give a value inside them.
 */
export function truncatedNormal(mean: number, sd: number, lo: number, hi: number, u: number): number {
  if (!(sd > 0)) return Math.min(hi, Math.max(lo, mean));
  const a = (lo - mean) / sd;
  const b = (hi - mean) / sd;
  let z: number;
  if (a >= 0) {
    const qa = 0.5 * erfc(a / Math.SQRT2);
    const qb = 0.5 * erfc(b / Math.SQRT2);
    z = qa > 0 ? -normalQuantile(qb + u * (qa - qb)) : a;
  } else if (b <= 0) {
    const pa = 0.5 * erfc(-a / Math.SQRT2);
    const pb = 0.5 * erfc(-b / Math.SQRT2);
    z = pb > 0 ? normalQuantile(pa + u * (pb - pa)) : b;
  } else {
    const pa = normalCdf(a);
    const pb = normalCdf(b);
    z = normalQuantile(pa + u * (pb - pa));
  }
  if (!Number.isFinite(z)) z = a >= 0 ? a : b;
  return Math.min(hi, Math.max(lo, mean + sd * z));
}

/** Quantile of a piecewise-uniform density given by cell centres, a common width and cell masses. */
export function gridQuantile(centres: Float64Array, step: number, mass: Float64Array, p: number): number {
  let total = 0;
  for (let i = 0; i < mass.length; i++) total += mass[i]!;
  const target = p * total;
  let acc = 0;
  for (let i = 0; i < mass.length; i++) {
    const w = mass[i]!;
    if (acc + w >= target && w > 0) return centres[i]! - step / 2 + (step * (target - acc)) / w;
    acc += w;
  }
  return centres[centres.length - 1]! + step / 2;
}

/** Quantile of equally weighted samples (linear interpolation between order statistics). */
export function sampleQuantile(sorted: Float64Array, p: number): number {
  const n = sorted.length;
  if (n === 0) return NaN;
  const h = (n - 1) * p;
  const lo = Math.floor(h);
  const hi = Math.min(n - 1, lo + 1);
  return sorted[lo]! + (h - lo) * (sorted[hi]! - sorted[lo]!);
}

export function sortedCopy(values: Float64Array): Float64Array {
  return Float64Array.from(values).sort();
}

export function mean(values: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < values.length; i++) s += values[i]!;
  return values.length > 0 ? s / values.length : NaN;
}
