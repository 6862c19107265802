/**
 * How numbers read in the report. An interval end the data cannot place (infinite, missing, zero
 * from an underflow, or beyond the dose range, where only the prior speaks) is written as the range
 * edge it lies beyond, `<0.001` or `>10`, never as 0 or as a number the data did not support.
 */

export interface DoseRange {
  minMicromolar: number;
  maxMicromolar: number;
}

/** Not available: the value is not in the data the report was given. */
export const NOT_AVAILABLE = 'n/a';

/** Three significant figures, plain digits (no exponent) down to 1e-6 µM. */
export function formatMicromolar(value: number): string {
  if (!Number.isFinite(value)) return value > 0 ? '∞' : value < 0 ? '-∞' : NOT_AVAILABLE;
  if (value === 0) return '0';
  const rounded = Number(value.toPrecision(3));
  const abs = Math.abs(rounded);
  if (abs >= 1e-6 && abs < 1e21) {
    const decimals = Math.max(0, 2 - Math.floor(Math.log10(abs)));
    return rounded
      .toFixed(decimals)
      .replace(/(\.\d*?)0+$/, '$1')
      .replace(/\.$/, '');
  }
  return rounded.toString();
}

export type BoundKind = 'finite' | 'below-range' | 'above-range';

/** One interval end, classified against the dose range. */
export interface IntervalEnd {
  kind: BoundKind;
  /** The value (µM) when finite; the range edge otherwise. */
  micromolar: number;
  text: string;
}

/**
 * Classify the lower end of an IC50 interval. Missing, non-positive, non-finite or below the
 * range's minimum: the data only say "below the lowest dose".
 */
export function lowerEnd(micromolar: number | undefined, range: DoseRange): IntervalEnd {
  if (micromolar === undefined || !Number.isFinite(micromolar) || micromolar < range.minMicromolar * (1 - 1e-9))
    return { kind: 'below-range', micromolar: range.minMicromolar, text: `<${formatMicromolar(range.minMicromolar)}` };
  if (micromolar > range.maxMicromolar * (1 + 1e-9))
    return { kind: 'above-range', micromolar: range.maxMicromolar, text: `>${formatMicromolar(range.maxMicromolar)}` };
  return { kind: 'finite', micromolar, text: formatMicromolar(micromolar) };
}

/** Classify the upper end: missing, infinite or above the range's maximum reads ">max". */
export function upperEnd(micromolar: number | undefined, range: DoseRange): IntervalEnd {
  if (
    micromolar === undefined ||
    Number.isNaN(micromolar) ||
    micromolar === Infinity ||
    micromolar > range.maxMicromolar * (1 + 1e-9)
  )
    return { kind: 'above-range', micromolar: range.maxMicromolar, text: `>${formatMicromolar(range.maxMicromolar)}` };
  if (!(micromolar >= range.minMicromolar * (1 - 1e-9)))
    return { kind: 'below-range', micromolar: range.minMicromolar, text: `<${formatMicromolar(range.minMicromolar)}` };
  return { kind: 'finite', micromolar, text: formatMicromolar(micromolar) };
}

/** "0.169–0.246", "<0.001–0.0035", "3.9–>10"; n/a when neither end is known. */
export function formatInterval(lo: number | undefined, hi: number | undefined, range: DoseRange): string {
  if (lo === undefined && hi === undefined) return NOT_AVAILABLE;
  return `${lowerEnd(lo, range).text}–${upperEnd(hi, range).text}`;
}

/** A point estimate, clamped to the range in the same way (an IC50 beyond the top dose reads ">10"). */
export function formatEstimate(micromolar: number | undefined, range: DoseRange): string {
  if (micromolar === undefined || Number.isNaN(micromolar)) return NOT_AVAILABLE;
  if (micromolar === Infinity || micromolar > range.maxMicromolar * (1 + 1e-9)) return upperEnd(Infinity, range).text;
  if (!(micromolar >= range.minMicromolar * (1 - 1e-9))) return lowerEnd(undefined, range).text;
  return formatMicromolar(micromolar);
}

export function formatUsd(usd: number): string {
  return `$${usd.toFixed(2)}`;
}

export function formatPercent(fraction: number | undefined, digits = 1): string {
  return fraction === undefined || !Number.isFinite(fraction) ? NOT_AVAILABLE : `${(fraction * 100).toFixed(digits)}%`;
}

export function formatNumber(value: number | undefined, digits = 3): string {
  return value === undefined || !Number.isFinite(value) ? NOT_AVAILABLE : Number(value.toPrecision(digits)).toString();
}

const HTML_ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

/** Escape text for HTML element content and double- or single-quoted attributes. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => HTML_ESCAPES[c]!);
}
