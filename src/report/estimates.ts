import type { CampaignResults } from '../domain/campaign-status';
import type { Interval } from '../learner/bayesian/index';
import { formatEstimate, lowerEnd, upperEnd, type DoseRange } from './format';
import { buildCampaignReport, type PairFit, type ReportOptions } from './report-data';

/**
 * The IC50 table a scientist takes away (`cellos results --estimates`): per pair, the relative and
 * the absolute IC50 with their 95% intervals from the campaign's final fit (the report's refit
 * with the campaign's own learner settings), the pair's state and whether the data support each.
 * An interval end the data cannot place is `null` here and reads `<x` / `>x` (the dose-range
 * edge it lies beyond) in text; it is never 0.
 */
export interface Ic50Value {
  /** Median in µM; null when the data cannot place it inside the dose range (or there is none). */
  micromolar: number | null;
  /** 95% interval ends in µM; null where unbounded (beyond the tested range). */
  lowMicromolar: number | null;
  highMicromolar: number | null;
  /** As text: "0.169", "<0.001", ">10". */
  text: string;
  intervalText: string;
  supported: boolean;
}

export interface EstimateRow {
  cellLine: string;
  compound: string;
  /** The campaign's state for the pair (answered, estimating, inactive, out of range…). */
  state: string;
  wells: number;
  relativeIc50: Ic50Value | null;
  /** Null when the curve does not reach 50% in most of the posterior. */
  absoluteIc50: (Ic50Value & { probabilityReached: number }) | null;
  hillSlope: number | null;
  /** The campaign's note on the pair. */
  note: string;
}

export interface EstimatesTable {
  campaignId: string;
  doseRange: DoseRange;
  rows: EstimateRow[];
}

function value(interval: Interval, supported: boolean, range: DoseRange): Ic50Value {
  const median = 10 ** interval.median;
  const lo = lowerEnd(10 ** interval.lo, range);
  const hi = upperEnd(10 ** interval.hi, range);
  const text = formatEstimate(median, range);
  const inRange = median >= range.minMicromolar * (1 - 1e-9) && median <= range.maxMicromolar * (1 + 1e-9);
  return {
    micromolar: inRange ? Number(median.toPrecision(4)) : null,
    lowMicromolar: lo.kind === 'finite' ? Number(lo.micromolar.toPrecision(4)) : null,
    highMicromolar: hi.kind === 'finite' ? Number(hi.micromolar.toPrecision(4)) : null,
    text,
    intervalText: `${lo.text}–${hi.text}`,
    supported,
  };
}

function absolute(fit: PairFit, range: DoseRange): EstimateRow['absoluteIc50'] {
  if (fit.probAbsoluteExists < 0.5) return null;
  return { ...value(fit.absoluteLog10, fit.absoluteSupported, range), probabilityReached: fit.probAbsoluteExists };
}

export function estimatesTable(results: CampaignResults, options: ReportOptions = {}): EstimatesTable {
  // No curve band or narrowing is drawn here: a small band keeps the refit cheap.
  const report = buildCampaignReport(results, { curvePoints: 2, ...options });
  const range = report.doseRange;
  return {
    campaignId: results.status.campaignId,
    doseRange: range,
    rows: report.pairs.map((p) => ({
      cellLine: p.cellLine,
      compound: p.compound,
      state: p.estimate?.state ?? p.fit?.state ?? 'no data',
      wells: p.estimate?.wells ?? p.points.length,
      relativeIc50: p.fit ? value(p.fit.relativeLog10, p.fit.relativeSupported, range) : null,
      absoluteIc50: p.fit ? absolute(p.fit, range) : null,
      hillSlope: p.fit ? Number(p.fit.hill.toPrecision(3)) : null,
      note: p.estimate?.note ?? p.fit?.note ?? '',
    })),
  };
}

const CSV_HEADERS = [
  'cellLine',
  'compound',
  'state',
  'wells',
  'relativeIc50Micromolar',
  'relativeLowMicromolar',
  'relativeHighMicromolar',
  'relativeText',
  'relativeIntervalText',
  'relativeSupported',
  'absoluteIc50Micromolar',
  'absoluteLowMicromolar',
  'absoluteHighMicromolar',
  'absoluteText',
  'absoluteIntervalText',
  'absoluteSupported',
  'hillSlope',
  'note',
];

/** CSV: numbers in numeric columns (empty where unbounded), the `<x` / `>x` text beside them. */
export function estimatesCsv(t: EstimatesTable, escape: (v: string | number | boolean | undefined) => string): string {
  const n = (v: number | null | undefined) => (v === null || v === undefined ? undefined : v);
  const rows = t.rows.map((r) => {
    const rel = r.relativeIc50;
    const abs = r.absoluteIc50;
    return [
      r.cellLine,
      r.compound,
      r.state,
      r.wells,
      n(rel?.micromolar),
      n(rel?.lowMicromolar),
      n(rel?.highMicromolar),
      rel?.text,
      rel?.intervalText,
      rel?.supported,
      n(abs?.micromolar),
      n(abs?.lowMicromolar),
      n(abs?.highMicromolar),
      abs?.text ?? (rel ? 'not reached' : undefined),
      abs?.intervalText,
      abs?.supported,
      n(r.hillSlope),
      r.note,
    ]
      .map(escape)
      .join(',');
  });
  return [CSV_HEADERS.join(','), ...rows].join('\n');
}
