import { isEndedState, type CampaignStatus } from '../domain/campaign-status';
import { campaignView, formatDuration, type CampaignClientOptions, type CampaignView } from './campaign-client';
import { batchLine } from './format';
import { campaignWorkerWarnings } from './workers-check';

/**
 * `cellos watch <id>`: the campaign on one screen, redrawn in place until it ends. The ETA is
 * measured, not modelled: the real time the finished batches took, per batch, carried forward
 * (an upper bound, since a campaign may answer its question before its last batch), and the same
 * on the campaign's lab clock. Pure rendering (`renderWatch`) is kept apart from the polling loop.
 */
export interface WatchFrame {
  view: CampaignView;
  /** "no lab worker is listening on …" lines. */
  warnings: string[];
  nowMs: number;
}

export interface Eta {
  /** Real time until the running batch's wells are done. */
  batchLeftMs: number;
  /** Real time until the last batch is done, if every batch runs. */
  campaignLeftMs: number;
  perBatchMs: number;
}

export function estimateEta(view: CampaignView, nowMs: number): Eta | undefined {
  const s = view.status;
  if (s.iteration === 0 || isEndedState(s.state) || s.state === 'scheduled') return undefined;
  const elapsed = nowMs - view.startTime.getTime();
  const perBatchMs = elapsed / s.iteration;
  return {
    perBatchMs,
    batchLeftMs: s.experiments.running > 0 ? Math.max(0, perBatchMs * (s.iteration + 1) - elapsed) : 0,
    campaignLeftMs: Math.max(0, perBatchMs * s.maxIterations - elapsed),
  };
}

function labTime(ms: number, s: CampaignStatus): string {
  if (!s.secondsPerLabHour) return '';
  const labHours = ms / 1000 / s.secondsPerLabHour;
  return labHours >= 48 ? `${(labHours / 24).toFixed(1)} lab days` : `${labHours.toFixed(1)} lab hours`;
}

/** What the campaign waits for right now, one line each: a person, approval, stock, an instrument. */
export function waitsFor(s: CampaignStatus): string[] {
  const lines: string[] = [];
  if (s.state === 'scheduled') lines.push(`its start: ${s.detail}`);
  if (s.pendingBatch) lines.push(`approval of ${s.pendingBatch.length} wells: cellos approve | reject ${s.campaignId}`);
  if (s.pendingAction) lines.push(`a person: ${s.pendingAction}; then cellos confirm ${s.campaignId}`);
  if (s.paused && !s.stopRequested)
    lines.push(`a person to resume it (${s.detail || 'paused'}): cellos resume ${s.campaignId}`);
  for (const w of s.waitingFor ?? [])
    lines.push(
      w.kind === 'stock'
        ? `stock: ${w.instrument} (${w.experiments} well(s)); cellos restock <item> <amount>`
        : `the ${w.instrument}, offline (${w.experiments} well(s))`,
    );
  if (lines.length === 0 && /incubator slot/.test(s.detail)) lines.push(s.detail.replace(/^waiting for /, ''));
  return lines;
}

export function renderWatch(frame: WatchFrame, options: { stopping?: boolean } = {}): string {
  const { view, warnings, nowMs } = frame;
  const s = view.status;
  const e = s.experiments;
  const usd = (v: number) => `$${v.toFixed(2)}`;
  const total = e.done + e.running + e.failed;
  const bar = total === 0 ? '' : `  [${'#'.repeat(Math.round((20 * (e.done + e.failed)) / total)).padEnd(20, '.')}]`;
  const lines = [
    `${s.campaignId} — ${s.state}${s.detail && s.state !== 'scheduled' ? ` (${s.detail})` : ''}${s.stopRequested && !isEndedState(s.state) ? ' — stopping' : ''}`,
    `batch      ${batchLine(s)}`,
    `wells      ${e.done} done · ${e.running} running · ${e.failed} failed · ${e.controls} vehicle${bar}`,
    `spent      ${usd(s.spentUsd)} of ${usd(s.budgetUsd)} (committed ${usd(s.committedUsd)})`,
  ];
  const eta = estimateEta(view, nowMs);
  if (options.stopping) {
    lines.push(
      e.running === 0
        ? 'stopping   no wells are running: the campaign ends as soon as it has written its results'
        : eta
          ? `stopping   ${e.running} running well(s) finish in about ${formatDuration(eta.batchLeftMs)}${s.secondsPerLabHour ? ` (${labTime(eta.batchLeftMs, s)})` : ''}, then it ends`
          : `stopping   ${e.running} running well(s) finish first (no batch has finished yet to time them by)`,
    );
  } else if (eta) {
    lines.push(
      `ETA        this batch ~${formatDuration(eta.batchLeftMs)}, the campaign at most ~${formatDuration(eta.campaignLeftMs)} real time` +
        (s.secondsPerLabHour ? `; lab clock ${labTime(eta.batchLeftMs, s)} / ${labTime(eta.campaignLeftMs, s)}` : ''),
    );
  } else if (!isEndedState(s.state))
    lines.push('ETA        after the first batch (it is what the estimate is timed by)');
  for (const w of waitsFor(s)) lines.push(`waiting    for ${w}`);
  for (const w of warnings) lines.push(`warning    ${w}`);
  if (isEndedState(s.state)) lines.push(`ended      ${s.state}${s.reportPath ? `; report: ${s.reportPath}` : ''}`);
  return lines.join('\n');
}

export async function watchFrame(opts: CampaignClientOptions, id: string): Promise<WatchFrame> {
  const view = await campaignView(opts, id);
  const warnings =
    view.running && view.status.state !== 'scheduled'
      ? await campaignWorkerWarnings(opts, view.taskQueue, view.status.learnerSettings?.assay)
      : [];
  return { view, warnings, nowMs: Date.now() };
}

const CLEAR = '\x1b[H\x1b[2J';

/**
 * Redraw until the campaign ends. On a terminal each frame replaces the last; into a pipe or file
 * a frame is written only when it changed, so a log of a watch reads as a history.
 */
export async function watchCampaign(
  opts: CampaignClientOptions,
  id: string,
  write: (text: string) => void,
  options: { intervalMs?: number; tty?: boolean } = {},
): Promise<CampaignStatus> {
  const intervalMs = options.intervalMs ?? 2_000;
  let last = '';
  for (;;) {
    const frame = await watchFrame(opts, id);
    const text = renderWatch(frame);
    const footer = frame.view.running
      ? `\n(every ${intervalMs / 1000} s; Ctrl-C stops watching, not the campaign)`
      : '';
    if (options.tty) write(`${CLEAR}${text}${footer}\n`);
    else if (text !== last) write(`${last === '' ? '' : '\n'}${text}\n`);
    last = text;
    if (!frame.view.running) return frame.view.status;
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}
