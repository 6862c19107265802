/**
 * Plain least-squares 4PL fit (Levenberg-Marquardt over top, bottom, log10 IC50, log h), the
 * estimator most labs use, reported beside the Bayesian fit. Multi-start over the IC50 so a bad
 * start does not count as a failure of the method. A fit "fails" when it does not converge or
 * runs to a bound (an IC50 two logs outside the range, a slope outside [0.1, 10]); its estimate
 * is then the bound, which is what a pipeline that ignores the flag would report.
 */

export interface LsFit {
  log10Ic50: number;
  hill: number;
  failed: boolean;
}

const LN10 = Math.LN10;

function solve4(A: number[][], b: number[]): number[] | undefined {
  const n = 4;
  const M = A.map((row, i) => [...row, b[i]!]);
  for (let c = 0; c < n; c++) {
    let p = c;
    for (let r = c + 1; r < n; r++) if (Math.abs(M[r]![c]!) > Math.abs(M[p]![c]!)) p = r;
    if (Math.abs(M[p]![c]!) < 1e-14) return undefined;
    [M[c], M[p]] = [M[p]!, M[c]!];
    for (let r = c + 1; r < n; r++) {
      const f = M[r]![c]! / M[c]![c]!;
      for (let k = c; k <= n; k++) M[r]![k] = M[r]![k]! - f * M[c]![k]!;
    }
  }
  const x = new Array<number>(n).fill(0);
  for (let r = n - 1; r >= 0; r--) {
    let s = M[r]![n]!;
    for (let k = r + 1; k < n; k++) s -= M[r]![k]! * x[k]!;
    x[r] = s / M[r]![r]!;
  }
  return x;
}

function sse(x: Float64Array, y: Float64Array, p: number[]): number {
  const [T, B, m, eta] = p as [number, number, number, number];
  const h = Math.exp(eta);
  let s = 0;
  for (let i = 0; i < x.length; i++) {
    const r = y[i]! - (B + (T - B) / (1 + Math.pow(10, h * (x[i]! - m))));
    s += r * r;
  }
  return s;
}

function lm(
  x: Float64Array,
  y: Float64Array,
  start: number[],
  bounds: { mLo: number; mHi: number },
): { p: number[]; sse: number; converged: boolean } {
  let p = [...start];
  let cur = sse(x, y, p);
  let lambda = 1e-2;
  for (let iter = 0; iter < 200; iter++) {
    const [T, B, m, eta] = p as [number, number, number, number];
    const h = Math.exp(eta);
    const JtJ = [0, 1, 2, 3].map(() => [0, 0, 0, 0]);
    const Jtr = [0, 0, 0, 0];
    for (let i = 0; i < x.length; i++) {
      const g = 1 / (1 + Math.pow(10, h * (x[i]! - m)));
      const f = B + (T - B) * g;
      const r = y[i]! - f;
      const d = (T - B) * g * (1 - g) * h * LN10;
      const J = [g, 1 - g, d, -d * (x[i]! - m)];
      for (let a = 0; a < 4; a++) {
        Jtr[a] = Jtr[a]! + J[a]! * r;
        for (let b = 0; b < 4; b++) JtJ[a]![b] = JtJ[a]![b]! + J[a]! * J[b]!;
      }
    }
    let improved = false;
    for (let tries = 0; tries < 10; tries++) {
      const A = JtJ.map((row, a) => row.map((v, b) => (a === b ? v * (1 + lambda) + 1e-12 : v)));
      const delta = solve4(A, Jtr);
      if (!delta) {
        lambda *= 10;
        continue;
      }
      const next = p.map((v, a) => v + delta[a]!);
      next[2] = Math.min(bounds.mHi, Math.max(bounds.mLo, next[2]!));
      next[3] = Math.min(Math.log(10), Math.max(Math.log(0.1), next[3]!));
      const s = sse(x, y, next);
      if (s < cur) {
        const rel = (cur - s) / Math.max(cur, 1e-12);
        p = next;
        cur = s;
        lambda = Math.max(1e-7, lambda / 3);
        improved = true;
        if (rel < 1e-10) return { p, sse: cur, converged: true };
        break;
      }
      lambda *= 10;
    }
    if (!improved) return { p, sse: cur, converged: true };
  }
  return { p, sse: cur, converged: false };
}

export function leastSquares4pl(x: Float64Array, y: Float64Array, range: { lo: number; hi: number }): LsFit {
  const bounds = { mLo: range.lo - 2, mHi: range.hi + 2 };
  const distinct = new Set(Array.from(x, (v) => v.toFixed(4))).size;
  if (distinct < 4) return { log10Ic50: (range.lo + range.hi) / 2, hill: 1, failed: true };
  let best: { p: number[]; sse: number; converged: boolean } | undefined;
  for (const frac of [0.2, 0.5, 0.8]) {
    const m0 = range.lo + frac * (range.hi - range.lo);
    const fit = lm(x, y, [1, 0.05, m0, Math.log(1.2)], bounds);
    if (!best || fit.sse < best.sse) best = fit;
  }
  const [, , m, eta] = best!.p as [number, number, number, number];
  const h = Math.exp(eta);
  const atBound = m <= bounds.mLo + 1e-6 || m >= bounds.mHi - 1e-6 || h <= 0.1 + 1e-6 || h >= 10 - 1e-6;
  return { log10Ic50: m, hill: h, failed: !best!.converged || atBound || !Number.isFinite(m) };
}
