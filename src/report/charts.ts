import { parse, View, type Spec } from 'vega';
import { formatInterval, formatMicromolar, formatUsd, type DoseRange } from './format';
import type { CampaignReport, NarrowingPoint, PairReport, SpendSummary } from './report-data';

/**
 * The report's charts as Vega specifications, rendered to SVG strings by Vega's headless
 * renderer (`View.toSVG()`, no DOM, no canvas). Vega writes a mark's name into its group's class
 * (`<g class="mark-line role-mark curve">`) and a mark's description into aria-label, which is how
 * tests and screen readers find the curve, its band, the wells and the IC50 marks. Nothing is
 * clipped (Vega's clip ids come from a process-wide counter, which would make the output depend
 * on what was rendered before); values are clamped to the axes instead.
 */

/** Mark names, so tests and the page's CSS say the same thing. */
export const MARKS = {
  vehicleBand: 'vehicle-band',
  vehicleMean: 'vehicle-mean',
  curveBand: 'curve-band',
  curve: 'curve',
  wells: 'wells',
  ic50Interval: 'ic50-interval',
  ic50: 'ic50',
  narrowingLine: 'narrowing-line',
  narrowingPoints: 'narrowing-points',
  spendBars: 'spend-bars',
} as const;

const CURVE_COLOUR = '#2f6db5';
const IC50_COLOUR = '#c0392b';
const WELL_COLOUR = '#222';
const VEHICLE_COLOUR = '#7f8c8d';

const CONFIG = {
  background: 'white',
  font: 'Helvetica, Arial, sans-serif',
  axis: { labelFontSize: 11, titleFontSize: 12, titleFontWeight: 'normal', grid: true, gridColor: '#eee' },
  legend: { labelFontSize: 11, titleFontSize: 12 },
} as const;

const clamp = (v: number, lo: number, hi: number) => Math.min(hi, Math.max(lo, v));

/** Powers of ten within [lo, hi]: a log axis labelled and gridded by decade only. */
function decades(lo: number, hi: number): number[] {
  const out: number[] = [];
  for (let k = Math.ceil(Math.log10(lo) - 1e-9); k <= Math.floor(Math.log10(hi) + 1e-9); k++) out.push(10 ** k);
  return out;
}

/** Render one spec to an SVG string. */
export async function renderSvg(spec: Spec): Promise<string> {
  const view = new View(parse(spec), { renderer: 'none', logLevel: 0 });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}

function pairLabel(p: { cellLine: string; compound: string }): string {
  return `${p.cellLine} × ${p.compound}`;
}

/** Wells, vehicle band, fitted curve with its 95% band, and the relative IC50 with its interval. */
export function doseResponseSpec(pair: PairReport, domainLog10: { lo: number; hi: number }, range: DoseRange): Spec {
  const xLo = 10 ** domainLog10.lo;
  const xHi = 10 ** domainLog10.hi;
  const responses = [
    ...pair.points.map((p) => p.response),
    ...(pair.vehicle ? [pair.vehicle.lo, pair.vehicle.hi] : []),
  ];
  const yLo = Math.min(-0.05, ...responses.map((r) => r - 0.05));
  const yHi = Math.max(1.25, ...responses.map((r) => r + 0.05));
  const fit = pair.fit;
  const band = (fit?.band ?? []).map((b) => ({
    x: 10 ** b.log10Dose,
    median: clamp(b.median, yLo, yHi),
    lo: clamp(b.lo, yLo, yHi),
    hi: clamp(b.hi, yLo, yHi),
  }));
  const ic50 = fit
    ? [
        {
          lo: clamp(10 ** fit.relativeLog10.lo, xLo, xHi),
          hi: clamp(10 ** fit.relativeLog10.hi, xLo, xHi),
          median: clamp(10 ** fit.relativeLog10.median, xLo, xHi),
          y: clamp((fit.top + fit.bottom) / 2, yLo, yHi),
          label: `relative IC50 ${formatMicromolar(10 ** fit.relativeLog10.median)} µM, 95% interval ${formatInterval(
            10 ** fit.relativeLog10.lo,
            10 ** fit.relativeLog10.hi,
            range,
          )} µM`,
        },
      ]
    : [];
  const vehicle = pair.vehicle
    ? [
        {
          lo: clamp(pair.vehicle.lo, yLo, yHi),
          hi: clamp(pair.vehicle.hi, yLo, yHi),
          mean: pair.vehicle.mean,
          label: `vehicle mean ${pair.vehicle.mean.toFixed(3)} ± 2 SD (${pair.vehicle.lo.toFixed(3)}–${pair.vehicle.hi.toFixed(3)}), ${pair.vehicle.wells} ${pair.cellLine} vehicle wells`,
        },
      ]
    : [];
  const points = pair.points.map((p) => ({
    x: clamp(p.doseMicromolar, xLo, xHi),
    y: clamp(p.response, yLo, yHi),
    label: `${formatMicromolar(p.doseMicromolar)} µM: response ${p.response.toFixed(3)} (${p.plateId} ${p.well}, iteration ${p.iteration})`,
  }));
  return {
    $schema: 'https://vega.github.io/schema/vega/v6.json',
    description: `Dose-response of ${pairLabel(pair)}`,
    width: 420,
    height: 240,
    padding: 5,
    config: CONFIG,
    data: [
      { name: 'points-data', values: points },
      { name: 'band-data', values: band },
      { name: 'ic50-data', values: ic50 },
      { name: 'vehicle-data', values: vehicle },
    ],
    scales: [
      { name: 'x', type: 'log', domain: [xLo, xHi], range: 'width', nice: false },
      { name: 'y', type: 'linear', domain: [yLo, yHi], range: 'height', nice: false, zero: false },
    ],
    axes: [
      { orient: 'bottom', scale: 'x', title: 'dose (µM, log scale)', format: '~g', values: decades(xLo, xHi) },
      { orient: 'left', scale: 'y', title: 'response vs vehicle', tickCount: 6 },
    ],
    marks: [
      {
        type: 'rect',
        name: MARKS.vehicleBand,
        from: { data: 'vehicle-data' },
        description: 'vehicle band: mean ± 2 SD of the line’s vehicle wells',
        encode: {
          enter: {
            x: { value: 0 },
            x2: { signal: 'width' },
            y: { scale: 'y', field: 'hi' },
            y2: { scale: 'y', field: 'lo' },
            fill: { value: VEHICLE_COLOUR },
            fillOpacity: { value: 0.18 },
            description: { field: 'label' },
          },
        },
      },
      {
        type: 'rule',
        name: MARKS.vehicleMean,
        from: { data: 'vehicle-data' },
        description: 'vehicle mean',
        encode: {
          enter: {
            x: { value: 0 },
            x2: { signal: 'width' },
            y: { scale: 'y', field: 'mean' },
            stroke: { value: VEHICLE_COLOUR },
            strokeDash: { value: [4, 3] },
          },
        },
      },
      {
        type: 'area',
        name: MARKS.curveBand,
        from: { data: 'band-data' },
        description: 'fitted curve, 95% credible band (pointwise posterior quantiles)',
        encode: {
          enter: {
            x: { scale: 'x', field: 'x' },
            y: { scale: 'y', field: 'hi' },
            y2: { scale: 'y', field: 'lo' },
            fill: { value: CURVE_COLOUR },
            fillOpacity: { value: 0.22 },
          },
        },
      },
      {
        type: 'line',
        name: MARKS.curve,
        from: { data: 'band-data' },
        description: 'fitted curve (posterior median response)',
        encode: {
          enter: {
            x: { scale: 'x', field: 'x' },
            y: { scale: 'y', field: 'median' },
            stroke: { value: CURVE_COLOUR },
            strokeWidth: { value: 2 },
          },
        },
      },
      {
        type: 'symbol',
        name: MARKS.wells,
        from: { data: 'points-data' },
        description: `${points.length} wells`,
        encode: {
          enter: {
            x: { scale: 'x', field: 'x' },
            y: { scale: 'y', field: 'y' },
            size: { value: 36 },
            fill: { value: WELL_COLOUR },
            fillOpacity: { value: 0.8 },
            stroke: { value: 'white' },
            strokeWidth: { value: 0.8 },
            description: { field: 'label' },
          },
        },
      },
      {
        type: 'rule',
        name: MARKS.ic50Interval,
        from: { data: 'ic50-data' },
        description: 'relative IC50, 95% credible interval',
        encode: {
          enter: {
            x: { scale: 'x', field: 'lo' },
            x2: { scale: 'x', field: 'hi' },
            y: { scale: 'y', field: 'y' },
            stroke: { value: IC50_COLOUR },
            strokeWidth: { value: 4 },
            strokeOpacity: { value: 0.75 },
            description: { field: 'label' },
          },
        },
      },
      {
        type: 'symbol',
        name: MARKS.ic50,
        from: { data: 'ic50-data' },
        description: 'relative IC50 (posterior median)',
        encode: {
          enter: {
            x: { scale: 'x', field: 'median' },
            y: { scale: 'y', field: 'y' },
            shape: { value: 'diamond' },
            size: { value: 90 },
            fill: { value: IC50_COLOUR },
            stroke: { value: 'white' },
            description: { field: 'label' },
          },
        },
      },
    ],
  };
}

/** 95% interval width of log10 IC50 against the pair's wells, one line per pair, from prefix refits. */
export function narrowingSpec(pairs: PairReport[], goalWidthLog10: number | undefined): Spec {
  const rows = pairs.flatMap((p) =>
    p.narrowing.map((n: NarrowingPoint) => ({
      pair: pairLabel(p),
      wells: n.wells,
      width: n.widthLog10,
      iteration: n.iteration,
      label: `${pairLabel(p)}: ±${(n.widthLog10 / 2).toFixed(2)} log10 after ${n.wells} wells (iteration ${n.iteration})`,
    })),
  );
  const widths = rows.map((r) => r.width).filter((w) => w > 0);
  const yLo = Math.min(goalWidthLog10 ?? Infinity, ...widths) * 0.8;
  const yHi = Math.max(goalWidthLog10 ?? 0, ...widths) * 1.25;
  const goal = goalWidthLog10 !== undefined ? [{ width: goalWidthLog10 }] : [];
  return {
    $schema: 'https://vega.github.io/schema/vega/v6.json',
    description: 'Width of the 95% interval on log10 IC50 against wells spent, per pair',
    width: 520,
    height: 260,
    padding: 5,
    config: CONFIG,
    data: [
      { name: 'rows-data', values: rows },
      { name: 'goal-data', values: goal },
    ],
    scales: [
      {
        name: 'x',
        type: 'linear',
        domain: { data: 'rows-data', field: 'wells' },
        range: 'width',
        zero: true,
        nice: true,
      },
      {
        name: 'y',
        type: 'log',
        domain: rows.length > 0 ? [yLo, yHi] : [0.1, 1],
        range: 'height',
        nice: false,
      },
      { name: 'colour', type: 'ordinal', domain: pairs.map(pairLabel), range: { scheme: 'tableau10' } },
    ],
    axes: [
      { orient: 'bottom', scale: 'x', title: 'treatment wells of the pair', tickMinStep: 1 },
      {
        orient: 'left',
        scale: 'y',
        title: '95% interval width, log10 IC50',
        format: '~g',
        values: [0.05, 0.1, 0.2, 0.5, 1, 2, 5, 10].filter((v) => v >= yLo && v <= yHi),
      },
    ],
    legends: [
      { fill: 'colour', stroke: 'colour', title: 'pair', orient: 'right', symbolType: 'stroke', labelLimit: 320 },
    ],
    marks: [
      {
        type: 'rule',
        name: 'goal-width',
        from: { data: 'goal-data' },
        description: 'goal interval width',
        encode: {
          enter: {
            x: { value: 0 },
            x2: { signal: 'width' },
            y: { scale: 'y', field: 'width' },
            stroke: { value: '#555' },
            strokeDash: { value: [6, 4] },
          },
        },
      },
      {
        type: 'group',
        from: { facet: { name: 'series', data: 'rows-data', groupby: 'pair' } },
        marks: [
          {
            type: 'line',
            name: MARKS.narrowingLine,
            from: { data: 'series' },
            encode: {
              enter: {
                x: { scale: 'x', field: 'wells' },
                y: { scale: 'y', field: 'width' },
                stroke: { scale: 'colour', field: 'pair' },
                strokeWidth: { value: 2 },
              },
            },
          },
        ],
      },
      {
        type: 'symbol',
        name: MARKS.narrowingPoints,
        from: { data: 'rows-data' },
        encode: {
          enter: {
            x: { scale: 'x', field: 'wells' },
            y: { scale: 'y', field: 'width' },
            fill: { scale: 'colour', field: 'pair' },
            size: { value: 30 },
            description: { field: 'label' },
          },
        },
      },
    ],
  };
}

/** Spend by category as horizontal bars. */
export function spendSpec(spend: SpendSummary): Spec {
  const rows = spend.byCategory.map((c) => ({ category: c.category, usd: c.usd, label: formatUsd(c.usd) }));
  return {
    $schema: 'https://vega.github.io/schema/vega/v6.json',
    description: 'Spend by category',
    width: 360,
    height: 22 * rows.length,
    padding: 5,
    config: { ...CONFIG, axis: { ...CONFIG.axis, grid: false } },
    data: [{ name: 'rows-data', values: rows }],
    scales: [
      { name: 'y', type: 'band', domain: { data: 'rows-data', field: 'category' }, range: 'height', padding: 0.2 },
      {
        name: 'x',
        type: 'linear',
        domain: { data: 'rows-data', field: 'usd' },
        range: 'width',
        zero: true,
        nice: true,
      },
    ],
    axes: [
      { orient: 'left', scale: 'y' },
      { orient: 'bottom', scale: 'x', title: 'USD', format: '$,.2f', tickCount: 5 },
    ],
    marks: [
      {
        type: 'rect',
        name: MARKS.spendBars,
        from: { data: 'rows-data' },
        encode: {
          enter: {
            y: { scale: 'y', field: 'category' },
            height: { scale: 'y', band: 1 },
            x: { scale: 'x', value: 0 },
            x2: { scale: 'x', field: 'usd' },
            fill: { value: CURVE_COLOUR },
            description: { signal: "datum.category + ': ' + datum.label" },
          },
        },
      },
      {
        type: 'text',
        from: { data: 'rows-data' },
        encode: {
          enter: {
            y: { scale: 'y', field: 'category', band: 0.5 },
            x: { scale: 'x', field: 'usd', offset: 4 },
            baseline: { value: 'middle' },
            text: { field: 'label' },
            fontSize: { value: 11 },
            fill: { value: '#333' },
          },
        },
      },
    ],
  };
}

export interface ReportCharts {
  /** SVG per pair key. */
  doseResponse: Map<string, string>;
  narrowing: string;
  spend: string;
}

/** Every chart of a report, rendered to SVG. */
export async function renderCharts(report: CampaignReport): Promise<ReportCharts> {
  const doseResponse = new Map<string, string>();
  for (const pair of report.pairs)
    doseResponse.set(pair.key, await renderSvg(doseResponseSpec(pair, report.plotDomainLog10, report.doseRange)));
  const objective = report.settings.objective;
  const goal = objective.type === 'ic50' ? 2 * objective.halfWidthLog10 : undefined;
  return {
    doseResponse,
    narrowing: await renderSvg(narrowingSpec(report.pairs, goal)),
    spend: await renderSvg(spendSpec(report.spend)),
  };
}
