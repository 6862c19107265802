import type { CampaignResults, CampaignStatus } from '../domain/campaign-status';
import type { ExperimentOutcome, PairEstimate } from '../domain/types';
import type { CampaignListing } from './campaign-client';
import type { ScheduleListing } from './schedules';
import type { InventoryReport } from '../activities/inventory-activities';

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
    `iteration  ${s.iteration} of ${s.maxIterations}`,
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
  if (s.estimates.length > 0) lines.push('', formatEstimates(s.estimates));
  return lines.join('\n');
}

/** A 95% interval; an unbounded end (absent) reads as a one-sided bound: "> 30", "< 0.001". */
function interval(lo: number | undefined, hi: number | undefined): string {
  if (lo !== undefined && hi !== undefined) return `${num(lo)}–${num(hi)}`;
  if (lo !== undefined) return `> ${num(lo)}`;
  if (hi !== undefined) return `< ${num(hi)}`;
  return '-';
}

export function formatEstimates(estimates: PairEstimate[]): string {
  return table(
    ['cell line', 'compound', 'wells', 'state', 'IC50 µM', '95% interval µM', 'note'],
    estimates.map((e) => [
      e.cellLine,
      e.compound,
      e.wells,
      e.state === 'out of range' && e.outOfRange ? `out of range (${e.outOfRange})` : e.state,
      num(e.ic50Micromolar),
      interval(e.ic50LowMicromolar, e.ic50HighMicromolar),
      e.note ?? '',
    ]),
  );
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
    o.status === 'succeeded' ? num(o.normalisedResponse) : `failed: ${o.failure?.type ?? '?'}`,
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
  ];
  const escape = (v: string | number | boolean | undefined) => {
    const raw = v === undefined ? '' : String(v);
    // A text cell that a spreadsheet would run as a formula (= + - @, tab, CR) is quoted with a leading '.
    const s = typeof v === 'string' && /^[=+\-@\t\r]/.test(raw) ? `'${raw}` : raw;
    return /[",\n\r]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
  };
  return [CSV_COLUMNS.join(','), ...r.outcomes.map((o) => row(o).map(escape).join(','))].join('\n');
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
