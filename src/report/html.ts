import type { PairEstimate } from '../domain/types';
import type { ReportCharts } from './charts';
import {
  NOT_AVAILABLE,
  escapeHtml,
  formatEstimate,
  formatInterval,
  formatMicromolar,
  formatNumber,
  formatPercent,
  formatUsd,
  type DoseRange,
} from './format';
import { USABLE_Z_PRIME } from './plate-qc';
import type { CampaignReport, PairFit, PairReport } from './report-data';

/**
 * The report page: one HTML string with its CSS and SVG inline. No script, no external resource
 * (the Content-Security-Policy forbids both), so the file opens offline and mails as one file.
 * Every value from the results is escaped.
 */

const e = escapeHtml;

/** Fields of PairEstimate the table would show but the campaign's estimate does not carry. */
export const MISSING_ESTIMATE_FIELDS = [
  'absolute IC50 and its 95% interval',
  'whether the relative IC50 is supported by the data',
  'whether the absolute IC50 is supported by the data',
] as const;

const NA_TITLE = 'not available: the campaign’s PairEstimate has no such field';

function na(): string {
  return `<td class="na" title="${e(NA_TITLE)}">${NOT_AVAILABLE}</td>`;
}

function td(text: string, cls?: string): string {
  return `<td${cls ? ` class="${cls}"` : ''}>${e(text)}</td>`;
}

function estimateRow(pair: PairReport, range: DoseRange): string {
  const est: PairEstimate | undefined = pair.estimate;
  const cells = [
    td(pair.cellLine),
    td(pair.compound),
    td(est?.state ?? NOT_AVAILABLE, `state state-${(est?.state ?? 'none').replace(/\s+/g, '-')}`),
    td(String(est?.wells ?? pair.points.length), 'num'),
    td(formatEstimate(est?.ic50Micromolar, range), 'num'),
    td(
      est && (est.ic50LowMicromolar !== undefined || est.ic50HighMicromolar !== undefined)
        ? formatInterval(est.ic50LowMicromolar, est.ic50HighMicromolar, range)
        : NOT_AVAILABLE,
      'num',
    ),
    na(),
    na(),
    na(),
    na(),
    td(formatNumber(est?.hillSlope), 'num'),
    td(est?.note ?? '', 'note'),
  ];
  return `<tr data-pair="${e(pair.key)}">${cells.join('')}</tr>`;
}

function ic50Table(report: CampaignReport): string {
  const head = [
    'cell line',
    'compound',
    'state',
    'wells',
    'relative IC50 (µM)',
    '95% interval (µM)',
    'absolute IC50 (µM)',
    '95% interval (µM)',
    'relative supported',
    'absolute supported',
    'Hill slope',
    'note',
  ];
  return `<table class="ic50-table" id="ic50-table">
<thead><tr>${head.map((h) => `<th scope="col">${e(h)}</th>`).join('')}</tr></thead>
<tbody>
${report.pairs.map((p) => estimateRow(p, report.doseRange)).join('\n')}
</tbody></table>
<p class="caption">From the campaign’s own estimates (<code>CampaignStatus.estimates</code>). An interval end written
<code>&lt;x</code> or <code>&gt;x</code> lies beyond the dose range (${e(formatMicromolar(report.doseRange.minMicromolar))}–${e(
    formatMicromolar(report.doseRange.maxMicromolar),
  )} µM): the data do not place it. <span class="na">${NOT_AVAILABLE}</span>: the estimate has no
such field (${e(MISSING_ESTIMATE_FIELDS.join('; '))}); the report’s refit gives them under each plot.</p>`;
}

function fitCaption(fit: PairFit | undefined, range: DoseRange): string {
  if (!fit) return '<p>No successful wells: nothing to fit.</p>';
  const rel = fit.relativeLog10;
  const abs = fit.absoluteLog10;
  const supported = (yes: boolean) =>
    yes ? '<span class="ok">supported</span>' : '<span class="warn">not supported by the data</span>';
  const absText =
    fit.probAbsoluteExists < 0.5
      ? `not reached (the curve reaches 50% in ${formatPercent(fit.probAbsoluteExists, 0)} of the posterior)`
      : `${e(formatEstimate(10 ** abs.median, range))} µM [${e(formatInterval(10 ** abs.lo, 10 ** abs.hi, range))}]`;
  return `<dl class="fit">
<dt>relative IC50</dt><dd data-field="relative-ic50">${e(formatEstimate(10 ** rel.median, range))} µM [${e(
    formatInterval(10 ** rel.lo, 10 ** rel.hi, range),
  )}], ${supported(fit.relativeSupported)}</dd>
<dt>absolute IC50</dt><dd data-field="absolute-ic50">${absText}, ${supported(fit.absoluteSupported)}</dd>
<dt>curve</dt><dd>Hill ${e(formatNumber(fit.hill))}, top ${e(formatNumber(fit.top))}, bottom ${e(
    formatNumber(fit.bottom),
  )}; refit state: ${e(fit.state)}</dd>
</dl>`;
}

function pairFigure(pair: PairReport, index: number, svg: string, range: DoseRange): string {
  const v = pair.vehicle;
  const wells = `${pair.points.length} wells${pair.lostWells > 0 ? ` (${pair.lostWells} more failed or not normalised)` : ''}`;
  const vehicle = v
    ? `vehicle band ${v.mean.toFixed(3)} ± ${(2 * v.sd).toFixed(3)} (mean ± 2 SD of ${v.wells} ${e(pair.cellLine)} vehicle wells)`
    : 'no vehicle wells for this line';
  return `<figure class="pair-plot" id="pair-${index + 1}" data-pair="${e(pair.key)}" aria-labelledby="pair-${index + 1}-title">
<h3 id="pair-${index + 1}-title">${e(pair.cellLine)} × ${e(pair.compound)}</h3>
<div class="chart" role="img" aria-label="${e(`Dose-response of ${pair.cellLine} × ${pair.compound}: ${wells}, fitted curve with 95% band`)}">${svg}</div>
<figcaption><p>${e(wells)}; ${vehicle}.</p>${fitCaption(pair.fit, range)}</figcaption>
</figure>`;
}

const LEGEND = `<p class="legend" aria-hidden="true">
<svg width="14" height="14"><circle cx="7" cy="7" r="3.5" fill="#222"/></svg> well
<svg width="22" height="14"><rect y="2" width="22" height="10" fill="#2f6db5" fill-opacity="0.22"/><line x1="0" y1="7" x2="22" y2="7" stroke="#2f6db5" stroke-width="2"/></svg> fitted curve (posterior median) and 95% band
<svg width="22" height="14"><rect y="2" width="22" height="10" fill="#7f8c8d" fill-opacity="0.18"/><line x1="0" y1="7" x2="22" y2="7" stroke="#7f8c8d" stroke-dasharray="4 3"/></svg> vehicle mean ± 2 SD
<svg width="22" height="14"><line x1="0" y1="7" x2="22" y2="7" stroke="#c0392b" stroke-width="4" stroke-opacity="0.75"/><path d="M11,2 L16,7 L11,12 L6,7 Z" fill="#c0392b"/></svg> relative IC50 and its 95% interval
</p>`;

function spendSection(report: CampaignReport, svg: string): string {
  const s = report.spend;
  const total = s.byCategory.reduce((t, c) => t + c.usd, 0);
  const rows = s.byCategory
    .map(
      (c) =>
        `<tr data-category="${e(c.category)}">${td(c.category)}${td(formatUsd(c.usd), 'num')}${td(
          total > 0 ? formatPercent(c.usd / total) : NOT_AVAILABLE,
          'num',
        )}</tr>`,
    )
    .join('\n');
  return `<div class="two-col"><div class="chart" role="img" aria-label="Spend by category">${svg}</div>
<table class="spend-table"><thead><tr><th scope="col">category</th><th scope="col">spent</th><th scope="col">share</th></tr></thead>
<tbody>${rows}</tbody>
<tfoot><tr><th scope="row">total</th>${td(formatUsd(s.totalUsd), 'num')}${td(
    s.budgetUsd > 0 ? `${formatPercent(s.totalUsd / s.budgetUsd)} of ${formatUsd(s.budgetUsd)}` : NOT_AVAILABLE,
    'num',
  )}</tr></tfoot></table></div>
<p class="caption">By well: treatments ${formatUsd(s.treatmentUsd)}, vehicle controls ${formatUsd(s.vehicleUsd)}; wells
that failed cost ${formatUsd(s.failedUsd)} of that (a failed well is charged for the steps it got through).</p>`;
}

function failuresSection(report: CampaignReport): string {
  if (report.failures.length === 0) return '<p>No well failed.</p>';
  const rows = report.failures
    .map(
      (f) =>
        `<tr data-proposal="${e(f.proposalId)}">${[
          td(f.proposalId),
          td(String(f.iteration), 'num'),
          td(`${f.plateId} ${f.well}`),
          td(f.cellLine),
          td(f.isControl ? 'vehicle' : f.compound),
          td(f.isControl ? '0' : formatMicromolar(f.doseMicromolar), 'num'),
          td(f.reason, 'reason'),
          td(f.message),
          td(f.completedSteps.join(', ') || 'none'),
          td(formatUsd(f.costUsd), 'num'),
        ].join('')}</tr>`,
    )
    .join('\n');
  return `<table class="failures-table"><thead><tr>${[
    'experiment',
    'iteration',
    'plate, well',
    'cell line',
    'compound',
    'dose (µM)',
    'reason',
    'detail',
    'steps done',
    'cost',
  ]
    .map((h) => `<th scope="col">${e(h)}</th>`)
    .join('')}</tr></thead><tbody>
${rows}
</tbody></table>`;
}

function platesSection(report: CampaignReport): string {
  const rows = report.plates
    .map((p) => {
      const verdict =
        p.zPrime === undefined ? NOT_AVAILABLE : p.zPrime >= USABLE_Z_PRIME ? 'usable' : `below ${USABLE_Z_PRIME}`;
      const cls = p.zPrime === undefined ? 'na' : p.zPrime >= USABLE_Z_PRIME ? 'ok' : 'warn';
      return `<tr data-plate="${e(p.plateId)}">${[
        td(p.plateId),
        td(String(p.iteration), 'num'),
        td(String(p.wells), 'num'),
        td(String(p.failedWells), 'num'),
        td(String(p.vehicleWells), 'num'),
        td(formatPercent(p.vehicleCv), 'num'),
        td(`${p.killedWells} @ ${formatNumber(p.killedMean)}`, 'num'),
        td(formatNumber(p.zPrime), 'num z-prime'),
        td(verdict, cls),
      ].join('')}</tr>`;
    })
    .join('\n');
  return `<table class="plates-table"><thead><tr>${[
    'plate',
    'iteration',
    'wells',
    'failed',
    'vehicle wells',
    'vehicle CV',
    'most-killed wells @ mean response',
    'Z′',
    'verdict',
  ]
    .map((h) => `<th scope="col">${e(h)}</th>`)
    .join('')}</tr></thead><tbody>
${rows}
</tbody></table>
<p class="caption">Z′ = 1 − 3 (SD₊ + SD₋) / |mean₊ − mean₋| on vehicle-normalised responses. The campaign runs no
positive control, so the positive group is the plate’s most-killed treatment wells (as many as it has usable vehicle
wells, at least 2): the window the plate actually showed. A plate whose doses killed little scores low for want of a
window, not for noise; read Z′ with the mean response of those wells. Vehicle CV is the within-line scatter of the
vehicle wells (each line’s vehicle mean is 1 after normalisation). ${USABLE_Z_PRIME} is the usual bar.</p>`;
}

function methodSection(report: CampaignReport): string {
  const s = report.settings;
  const inferred = new Set(report.inferred);
  const item = (key: keyof typeof s, text: string) =>
    `<li>${e(key)}: ${e(text)}${inferred.has(key) ? ' <span class="warn">(inferred from the results)</span>' : ''}</li>`;
  return `<p>Curves and the interval-narrowing chart are the project’s Bayesian learner refitted from this campaign’s
observations (successful, vehicle-normalised wells), once per iteration on the wells known by then; the band is the
pointwise 2.5–97.5% posterior quantile of the response. With the campaign’s own settings the last refit is the
campaign’s final fit; <code>CampaignResults</code> does not carry them, so those marked below were inferred.</p>
<ul class="settings">
${item('doseRange', `${formatMicromolar(s.doseRange.minMicromolar)}–${formatMicromolar(s.doseRange.maxMicromolar)} µM`)}
${item('objective', JSON.stringify(s.objective))}
${item('seed', String(s.seed))}
${item('controlsPerLine', String(s.controlsPerLine))}
${item('assay', s.assay)}
</ul>`;
}

const CSS = `
:root { color-scheme: light; }
* { box-sizing: border-box; }
body { font: 14px/1.45 Helvetica, Arial, sans-serif; color: #222; margin: 0 auto; padding: 24px; max-width: 1280px; }
h1 { font-size: 22px; margin: 0 0 4px; }
h2 { font-size: 18px; margin: 32px 0 8px; border-bottom: 1px solid #ddd; padding-bottom: 4px; }
h3 { font-size: 15px; margin: 0 0 4px; }
nav a { margin-right: 12px; }
.summary { margin: 4px 0; }
.meta, .caption { color: #555; font-size: 12.5px; }
table { border-collapse: collapse; margin: 8px 0; font-size: 13px; }
th, td { border: 1px solid #ddd; padding: 4px 8px; text-align: left; vertical-align: top; }
th { background: #f5f5f5; font-weight: 600; }
td.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
td.note { max-width: 360px; color: #444; }
.na { color: #999; }
.ok { color: #1e7b34; }
.warn { color: #b35c00; }
.state-answered { color: #1e7b34; font-weight: 600; }
.plots { display: grid; grid-template-columns: repeat(auto-fill, minmax(420px, 1fr)); gap: 16px; }
figure.pair-plot { margin: 0; padding: 12px; border: 1px solid #e3e3e3; border-radius: 6px; }
figcaption { font-size: 12.5px; }
figcaption p { margin: 4px 0; }
dl.fit { display: grid; grid-template-columns: max-content 1fr; gap: 2px 10px; margin: 4px 0 0; }
dl.fit dt { color: #555; }
dl.fit dd { margin: 0; }
.chart svg { max-width: 100%; height: auto; }
.legend svg { vertical-align: middle; margin-left: 12px; }
.two-col { display: flex; flex-wrap: wrap; gap: 24px; align-items: flex-start; }
@media print { body { padding: 0; } nav { display: none; } figure.pair-plot { break-inside: avoid; } }
`;

/** The whole page. */
export function reportHtml(report: CampaignReport, charts: ReportCharts): string {
  const s = report.status;
  const w = report.wells;
  const title = `cell_OS campaign report: ${s.campaignId}`;
  const figures = report.pairs
    .map((p, i) => pairFigure(p, i, charts.doseResponse.get(p.key) ?? '', report.doseRange))
    .join('\n');
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src data:">
<meta name="generator" content="cell_OS report">
<title>${e(title)}</title>
<style>${CSS}</style>
</head>
<body>
<header>
<h1>${e(title)}</h1>
<p class="summary" id="summary"><strong>${e(s.state)}</strong>${s.detail ? ` (${e(s.detail)})` : ''} · iteration ${s.iteration} of
${s.maxIterations} · ${w.treatments} treatment wells, ${w.vehicle} vehicle wells, ${w.failed} failed${
    w.notNormalised > 0 ? `, ${w.notNormalised} not normalised` : ''
  } · ${formatUsd(s.spentUsd)} of ${formatUsd(s.budgetUsd)} spent</p>
<p class="meta">Generated ${e(report.generatedAt)} · ${report.pairs.length} pairs (${e(report.settings.cellLines.join(', '))} ×
${e(report.settings.compounds.join(', '))}) · ${e(report.settings.assay)}</p>
<nav><a href="#ic50">IC50 table</a><a href="#curves">Dose-response</a><a href="#narrowing">Interval vs wells</a><a href="#spend">Spend</a><a href="#failures">Failed wells</a><a href="#plates">Plate QC</a><a href="#method">Method</a></nav>
</header>
<main>
<section id="ic50"><h2>IC50 estimates</h2>
${ic50Table(report)}
</section>
<section id="curves"><h2>Dose-response</h2>
${LEGEND}
<div class="plots">
${figures}
</div>
</section>
<section id="narrowing"><h2>How the intervals narrowed as wells were spent</h2>
<div class="chart" role="img" aria-label="95% interval width of log10 IC50 against wells, per pair">${charts.narrowing}</div>
<p class="caption">Each point is a refit on the pair’s wells up to the end of an iteration (sharing strength across
lines, as the learner does). Dashed: the goal width${
    report.settings.objective.type === 'ic50'
      ? ` (±${report.settings.objective.halfWidthLog10} log10${report.inferred.includes('objective') ? ', the default objective' : ''})`
      : ''
  }.</p>
</section>
<section id="spend"><h2>Spend by category</h2>
${spendSection(report, charts.spend)}
</section>
<section id="failures"><h2>Failed wells (${report.failures.length})</h2>
${failuresSection(report)}
</section>
<section id="plates"><h2>Plate QC</h2>
${platesSection(report)}
</section>
<section id="method"><h2>How this report was made</h2>
${methodSection(report)}
</section>
</main>
</body>
</html>
`;
}
