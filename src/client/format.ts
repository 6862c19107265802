import { isEndedState, type CampaignResults, type CampaignStatus } from '../domain/campaign-status';
import type { ExperimentOutcome, PairEstimate } from '../domain/types';
import type { CampaignListing } from './campaign-client';
import type { ScheduleListing } from './schedules';
import type { InventoryReport } from '../inventory/requests';
import { formatEstimate, lowerEnd, upperEnd, type DoseRange } from '../report/format';
import type { EstimatesTable } from '../report/estimates';

/** Plain-text rendering for the terminal. Pure, so the CLI's output is unit-testable. */
export function table(headers: string[], rows: (string | number)[][]): string {
  const cells = [headers, ...rows.map((r) => r.map(String))];
  const widths = headers.map((_, i) => Math.max(...cells.map((r) => (r[i] ?? '').length)));
  const line = (r: string[]) =>
    r
      .map((c, i) => c.padEnd(widths[i]!))
      .join('  ')
      .trimEnd();
  return [line(headers), widths.map((w) => '-'.repeat(w)).join('  '), ...cells.slice(1).map(line)].join('\n');
}

const usd = (v: number) => `$${v.toFixed(2)}`;
const num = (v: number | undefined, digits = 3) => (v === undefined ? '-' : Number(v.toPrecision(digits)).toString());

export function formatStatus(s: CampaignStatus): string {
  const lines = [
    `campaign   ${s.campaignId}`,
    `state      ${s.state}${s.detail ? ` (${s.detail})` : ''}${s.stopRequested && s.state !== 'stopped' ? ' — stop requested' : ''}`,
    `batch      ${batchLine(s)}`,
    `wells      ${s.experiments.done} done (${s.experiments.controls} of them vehicle controls), ${s.experiments.running} running, ${s.experiments.failed} failed`,
    `spent      ${usd(s.spentUsd)} of ${usd(s.budgetUsd)} (committed ${usd(s.committedUsd)})`,
  ];
  if (s.spentByCategory) {
    const parts = Object.entries(s.spentByCategory)
      .filter(([, v]) => v > 0)
      .map(([k, v]) => `${k} ${usd(v)}`);
    if (parts.length > 0) lines.push(`           ${parts.join(' · ')}`);
  }
  lines.push(`priority   ${s.priorityKey} (1 highest, 5 lowest)`);
  if (s.pendingAction) lines.push(`needs you  ${s.pendingAction}; then: cellos confirm ${s.campaignId}`);
  if (s.pendingBatch) {
    lines.push(
      `needs you  approve or reject this batch: cellos approve ${s.campaignId} | cellos reject ${s.campaignId} --reason "…"`,
    );
    for (const p of s.pendingBatch) {
      lines.push(
        `           ${p.proposalId}  ${p.isControl ? `${p.cellLine} vehicle control` : `${p.cellLine} × ${p.compound} @ ${p.doseMicromolar} µM`}`,
      );
    }
  }
  for (const r of s.rejections ?? [])
    lines.push(`rejected   iteration ${r.iteration}: ${r.wells} wells ("${r.reason}")`);
  for (const w of s.waitingFor ?? []) {
    lines.push(
      w.kind === 'stock'
        ? `waiting    for stock: ${w.instrument} is short (${w.experiments} experiment(s) waiting); restock with: cellos restock <item> <amount>`
        : `waiting    for the ${w.instrument}, which is offline (${w.experiments} experiment(s) waiting)`,
    );
  }
  if (s.reportPath) lines.push(`report     ${s.reportPath}`);
  else if (isEndedState(s.state)) lines.push(`report     none written; make one with: cellos report ${s.campaignId}`);
  if (s.estimates.length > 0) lines.push('', formatEstimates(s.estimates, s.learnerSettings?.doseRange));
  return lines.join('\n');
}

/**
 * A 95% interval. An inactive or out-of-range pair has a one-sided bound ("> 30", "< 0.001"); for
 * a pair still estimating an end the learner could not place reads `<min` / `>max`, never 0.
 */
function interval(e: PairEstimate, range: DoseRange): string {
  const lo = e.ic50LowMicromolar || undefined;
  const hi = e.ic50HighMicromolar || undefined;
  if (lo === undefined && hi === undefined) return '-';
  if ((e.state === 'inactive' || e.state === 'out of range') && (lo === undefined || hi === undefined))
    return lo !== undefined ? `> ${num(lo)}` : `< ${num(hi!)}`;
  return `${lowerEnd(lo, range).text}–${upperEnd(hi, range).text}`;
}

/**
 * The batch the campaign is on, counted as a person counts: while batch 1 is proposed, approved
 * or run it says "1 of 3", not "0 of 3"; once ended, how many batches ran.
 */
export function batchLine(s: CampaignStatus): string {
  if (isEndedState(s.state)) return `${s.iteration} of ${s.maxIterations} ran`;
  const current = Math.min(s.iteration + 1, s.maxIterations);
  const doing = s.experiments.running > 0 ? 'running' : s.pendingBatch ? 'proposed, waiting for approval' : 'next';
  return `${current} of ${s.maxIterations} (${doing}; ${s.iteration} done)`;
}

/** The fallback range when a status does not carry its learner settings (older campaigns). */
const DEFAULT_RANGE: DoseRange = { minMicromolar: 0.001, maxMicromolar: 10 };

/**
 * The per-pair table of `status`. An interval end the learner could not place (missing, 0,
 * infinite, beyond the range) reads `<min` / `>max`, never 0; notes are cut to their first clause
 * (the full reasoning is in `--json`).
 */
export function formatEstimates(estimates: PairEstimate[], range: DoseRange = DEFAULT_RANGE): string {
  return table(
    ['cell line', 'compound', 'wells', 'state', 'IC50 µM', '95% interval µM', 'note'],
    estimates.map((e) => [
      e.cellLine,
      e.compound,
      e.wells,
      e.state === 'out of range' && e.outOfRange ? `out of range (${e.outOfRange})` : e.state,
      e.ic50Micromolar === undefined ? '-' : formatEstimate(e.ic50Micromolar, range),
      interval(e, range),
      shortNote(openEnds(e.note, range)),
    ]),
  );
}

/** A note's "[0.143, 0]" (an interval whose upper end is unbounded) reads "[0.143, >10]". */
export function openEnds(note: string | undefined, range: DoseRange): string | undefined {
  return note?.replace(/\[([^,\]]+), 0\]/g, `[$1, >${range.maxMicromolar}]`);
}

/** The first clause of a note, at most `max` characters: what a table has room for. */
export function shortNote(note: string | undefined, max = 60): string {
  if (!note) return '';
  const first = note
    .split(/(?<=[.;:])\s|\s[—(]/)[0]!
    .replace(/[.;:]$/, '')
    .trim();
  return first.length <= max ? first : `${first.slice(0, max - 1).trimEnd()}…`;
}

export function formatResults(r: CampaignResults): string {
  const treatments = r.outcomes.filter((o) => !o.proposal.isControl);
  const sorted = [...treatments].sort(
    (a, b) =>
      a.proposal.cellLine.localeCompare(b.proposal.cellLine) ||
      a.proposal.compound.localeCompare(b.proposal.compound) ||
      a.proposal.doseMicromolar - b.proposal.doseMicromolar,
  );
  const rows = sorted.map((o) => [
    o.proposal.cellLine,
    o.proposal.compound,
    num(o.proposal.doseMicromolar, 4),
    o.status !== 'succeeded'
      ? `failed: ${o.failure?.type ?? '?'}`
      : o.normalisedResponse === undefined
        ? NO_VEHICLE
        : num(o.normalisedResponse),
    o.readout ? Math.round(o.readout.signal) : '-',
    o.location.well,
    o.iteration,
    usd(o.costUsd),
  ]);
  const header = `${r.status.campaignId}: ${r.status.state}${r.status.detail ? ` (${r.status.detail})` : ''}; ${treatments.length} experiments, ${r.outcomes.length - treatments.length} vehicle controls, ${usd(r.status.spentUsd)} spent`;
  const response = r.outcomes[0]?.proposal.assay === 'imaging' ? 'cells vs vehicle' : 'viability vs vehicle';
  const breakdown = Object.entries(r.status.spentByCategory ?? {})
    .filter(([, v]) => v > 0)
    .map(([k, v]) => `${k} ${usd(v)}`)
    .join(' · ');
  return [
    header,
    ...(breakdown ? [`spend by category: ${breakdown}`] : []),
    '',
    table(['cell line', 'compound', 'dose µM', response, 'raw signal', 'well', 'iter', 'cost'], rows),
  ].join('\n');
}

/** A read well that could not be normalised: its plate had no usable vehicle well for its line. */
export const NO_VEHICLE = 'no usable vehicle control on its plate';

const CSV_COLUMNS = [
  'proposalId',
  'experimentWorkflowId',
  'iteration',
  'cellLine',
  'compound',
  'doseMicromolar',
  'assay',
  'isControl',
  'plateId',
  'well',
  'status',
  'rawSignal',
  'normalisedResponse',
  'cellCount',
  'phenotypeScore',
  'failureType',
  'costUsd',
  'note',
] as const;

export function resultsCsv(r: CampaignResults): string {
  const row = (o: ExperimentOutcome): (string | number | boolean | undefined)[] => [
    o.proposal.proposalId,
    o.experimentWorkflowId,
    o.iteration,
    o.proposal.cellLine,
    o.proposal.compound,
    o.proposal.doseMicromolar,
    o.proposal.assay,
    o.proposal.isControl,
    o.location.plateId,
    o.location.well,
    o.status,
    o.readout?.signal,
    o.normalisedResponse,
    o.readout?.cellCount,
    o.readout?.phenotypeScore,
    o.failure?.type,
    o.costUsd,
    o.status === 'succeeded' && o.normalisedResponse === undefined && o.readout ? NO_VEHICLE : undefined,
  ];
  return [CSV_COLUMNS.join(','), ...r.outcomes.map((o) => row(o).map(csvCell).join(','))].join('\n');
}

/** One CSV cell. A text cell that a spreadsheet would run as a formula (= + - @, tab, CR) gets a leading '. */
export function csvCell(v: string | number | boolean | undefined): string {
  const raw = v === undefined ? '' : String(v);
  const s = typeof v === 'string' && /^[=+\-@\t\r]/.test(raw) ? `'${raw}` : raw;
  return /[",\n\r]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

/**
 * A GraphPad Prism XY table as CSV: dose (µM) as X, one Y data set per pair, its replicates (wells
 * of that pair at that dose) side by side as subcolumns; a blank where a pair has fewer wells at a
 * dose. Only normalised treatment wells. The header row names each subcolumn's data set, so
 * "Import data" with "first row is titles" and N replicates (the header repeats each pair N times)
 * lands each value in its place.
 */
export function resultsPrism(r: CampaignResults): string {
  const usable = r.outcomes.filter(
    (o) => !o.proposal.isControl && o.status === 'succeeded' && o.normalisedResponse !== undefined,
  );
  const pairs = [...new Set(usable.map((o) => `${o.proposal.cellLine} × ${o.proposal.compound}`))].sort();
  const byDose = new Map<number, Map<string, number[]>>();
  for (const o of usable) {
    const pair = `${o.proposal.cellLine} × ${o.proposal.compound}`;
    const cells = byDose.get(o.proposal.doseMicromolar) ?? new Map<string, number[]>();
    cells.set(pair, [...(cells.get(pair) ?? []), o.normalisedResponse!]);
    byDose.set(o.proposal.doseMicromolar, cells);
  }
  const replicates = Math.max(1, ...[...byDose.values()].flatMap((cells) => [...cells.values()].map((v) => v.length)));
  const header = ['Dose (µM)', ...pairs.flatMap((p) => Array.from({ length: replicates }, () => p))];
  const rows = [...byDose.keys()]
    .sort((a, b) => a - b)
    .map((dose) => {
      const cells = byDose.get(dose)!;
      return [
        dose,
        ...pairs.flatMap((p) => {
          const values = cells.get(p) ?? [];
          return Array.from({ length: replicates }, (_, i) => values[i]);
        }),
      ];
    });
  return [header.map(csvCell).join(','), ...rows.map((row) => row.map(csvCell).join(','))].join('\n');
}

export function formatList(list: CampaignListing[]): string {
  if (list.length === 0) return 'no campaigns yet; start one with: cellos start <config.yaml>';
  return table(
    ['campaign', 'state', 'started', 'ended'],
    list.map((c) => [c.campaignId, c.state, c.startTime.toISOString(), c.closeTime?.toISOString() ?? '']),
  );
}

export function formatSchedules(list: ScheduleListing[]): string {
  if (list.length === 0)
    return 'no campaign schedules; create one with: cellos schedule create <config.yaml> --cron "0 2 * * *"';
  return table(
    ['schedule', 'cron', 'state', 'next runs'],
    list.map((s) => [
      s.scheduleId,
      s.spec,
      s.paused ? `paused${s.note ? ` (${s.note})` : ''}` : 'active',
      s.nextRuns.map((d) => d.toISOString()).join(', '),
    ]),
  );
}

export function formatInventory(r: InventoryReport): string {
  const items = table(
    ['item', 'level', 'unit', 'lot', ''],
    r.items.map((i) => [i.item, Number(i.level.toPrecision(6)), i.unit, i.lot ?? '', i.low ? 'LOW: restock' : '']),
  );
  const campaigns =
    r.campaigns.length === 0
      ? 'no consumption recorded yet'
      : table(
          [
            'campaign',
            'spent',
            'plates',
            'unused wells',
            'tips',
            'media',
            'compound',
            'DMSO',
            'reagents',
            'instrument time',
          ],
          r.campaigns.map((c) => [
            c.campaignId,
            usd(c.totalUsd),
            usd(c.byCategory.plates ?? 0),
            // Plates are charged whole: the wells of opened plates no experiment used, and their share of the plate cost.
            `${c.unusedWells ?? 0} (${usd(c.unusedPlateWellsUsd ?? 0)})`,
            ...(['tips', 'media', 'compound', 'DMSO', 'reagents', 'instrument time'] as const).map((k) =>
              usd(c.byCategory[k] ?? 0),
            ),
          ]),
        );
  return [items, '', campaigns, '', `total consumed: ${usd(r.totalUsd)}`].join('\n');
}

/** `results --estimates` as a terminal table; a pair's full note is in `--json`. */
export function formatEstimatesTable(t: EstimatesTable): string {
  const yes = (b: boolean) => (b ? 'yes' : 'no');
  const rows = t.rows.map((r) => {
    const rel = r.relativeIc50;
    const abs = r.absoluteIc50;
    return [
      r.cellLine,
      r.compound,
      r.state,
      r.wells,
      rel?.text ?? 'no fit',
      rel?.intervalText ?? '',
      rel ? yes(rel.supported) : '',
      abs?.text ?? (rel ? 'not reached' : ''),
      abs?.intervalText ?? '',
      abs ? yes(abs.supported) : '',
      r.hillSlope ?? '',
      // The absolute IC50 has its own columns here: the note says what else there is.
      shortNote(
        r.note
          .split('; ')
          .filter((clause) => !clause.startsWith('absolute IC50'))
          .join('; '),
      ),
    ];
  });
  return [
    `${t.campaignId}: IC50 per pair (µM; dose range ${t.doseRange.minMicromolar}–${t.doseRange.maxMicromolar}); <x or >x: beyond the tested range`,
    '',
    table(
      [
        'cell line',
        'compound',
        'state',
        'wells',
        'relative IC50',
        '95% interval',
        'supported',
        'absolute IC50',
        '95% interval',
        'supported',
        'Hill',
        'note',
      ],
      rows,
    ),
  ].join('\n');
}
