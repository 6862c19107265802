import type { CostCategory } from './costs';
import type { ProposerSettings } from '../learner/proposer';
import type { ExperimentOutcome, PairEstimate, Proposal } from './types';

export const CAMPAIGN_STATES = [
  /** A delayed start still ahead (`cellos start --at`): shown by the client, never set by the workflow. */
  'scheduled',
  'running',
  'paused',
  'awaiting approval',
  'waiting for a person',
  'stopped',
  'budget exhausted',
  'completed',
  'goal reached',
  'failed',
] as const;
export type CampaignState = (typeof CAMPAIGN_STATES)[number];

/** What `cellos status` shows; also the answer to the `status` query. */
export interface CampaignStatus {
  campaignId: string;
  name: string;
  state: CampaignState;
  /** Why the campaign is in this state, in words (e.g. "paused by operator", "max iterations reached"). */
  detail: string;
  iteration: number;
  maxIterations: number;
  /** Wells of every kind (treatments and vehicle controls); `controls` is how many of the `done` wells are controls. */
  experiments: { done: number; running: number; failed: number; controls: number };
  spentUsd: number;
  /** The spend by category (plates, tips, media, compound, DMSO, reagents, instrument time). */
  spentByCategory: Record<CostCategory, number>;
  committedUsd: number;
  budgetUsd: number;
  paused: boolean;
  stopRequested: boolean;
  estimates: PairEstimate[];
  /** The design and goal the learner works to (pairs, dose ranges, objective, seed…): what a report refits with. */
  learnerSettings?: ProposerSettings;
  /** Number of continue-as-new hand-overs so far. */
  runs: number;
  /** Offline instruments (or missing stock) that running experiments are waiting for. */
  waitingFor: { instrument: string; kind: 'instrument' | 'stock'; experiments: number }[];
  priorityKey: number;
  /** The proposed batch waiting for approval, when `approval: required`. */
  pendingBatch?: Proposal[];
  /** A manual step waiting for a person's confirmation, e.g. "load plate … into the incubator". */
  pendingAction?: string;
  /** Batches a person rejected, with their reasons (fed back to the learner). */
  rejections: { iteration: number; wells: number; reason: string }[];
  /** Real seconds per lab hour of the campaign's lab clock (3600: real time), for ETAs. */
  secondsPerLabHour?: number;
  /** The HTML report the campaign wrote when it ended (absolute path on the orchestration worker's host). */
  reportPath?: string;
}

/** Ended states, and how each ended campaign reads in one word for lists and notifications. */
export function isEndedState(state: CampaignState): boolean {
  return !['scheduled', 'running', 'paused', 'awaiting approval', 'waiting for a person'].includes(state);
}

/**
 * The campaign's live summary for the Temporal Web UI (the workflow's current details, markdown):
 * state, progress, spend, the IC50 table and what it needs from a person. Pure, so the workflow
 * can call it and tests can read it.
 */
export function campaignDetailsMarkdown(s: CampaignStatus): string {
  const usd = (v: number) => `$${v.toFixed(2)}`;
  const n = (v: number | undefined) =>
    v === undefined || !Number.isFinite(v) || v === 0 ? '' : String(Number(v.toPrecision(3)));
  // The batch being worked on (proposed, approved or run) counts: batch 1 while the first one runs.
  const batch = isEndedState(s.state) ? s.iteration : Math.min(s.iteration + 1, s.maxIterations);
  const lines = [
    `## ${s.name}: ${s.state}`,
    ...(s.detail ? [`_${s.detail}_`] : []),
    '',
    `- batch **${batch} of ${s.maxIterations}**${s.experiments.running > 0 ? ' (running)' : ''}`,
    `- wells: ${s.experiments.done} done, ${s.experiments.running} running, ${s.experiments.failed} failed, ${s.experiments.controls} vehicle`,
    `- spent **${usd(s.spentUsd)}** of ${usd(s.budgetUsd)} (committed ${usd(s.committedUsd)})`,
  ];
  const needs: string[] = [];
  if (s.pendingBatch)
    needs.push(`approve or reject ${s.pendingBatch.length} proposed wells (\`cellos approve ${s.campaignId}\`)`);
  if (s.pendingAction) needs.push(`${s.pendingAction}, then \`cellos confirm ${s.campaignId}\``);
  if (s.paused) needs.push(`it is paused; resume with \`cellos resume ${s.campaignId}\``);
  for (const w of s.waitingFor ?? [])
    needs.push(
      w.kind === 'stock'
        ? `restock ${w.instrument} (${w.experiments} wells wait)`
        : `bring the ${w.instrument} back online (${w.experiments} wells wait)`,
    );
  if (needs.length > 0) lines.push('', '**Needs a person**', ...needs.map((x) => `- ${x}`));
  if (s.reportPath) lines.push('', `Report: \`${s.reportPath}\``);
  if (s.estimates.length > 0) {
    lines.push('', '| cell line | compound | state | wells | IC50 µM | 95% interval |', '|---|---|---|---|---|---|');
    for (const e of s.estimates) {
      const lo = n(e.ic50LowMicromolar);
      const hi = e.ic50HighMicromolar === Infinity ? '' : n(e.ic50HighMicromolar);
      const interval = lo === '' && hi === '' ? '' : `${lo || '…'}–${hi || '…'}`;
      lines.push(`| ${e.cellLine} | ${e.compound} | ${e.state} | ${e.wells} | ${n(e.ic50Micromolar)} | ${interval} |`);
    }
  }
  return lines.join('\n');
}

/** What `cellos results` shows, and what the campaign workflow returns. */
export interface CampaignResults {
  status: CampaignStatus;
  outcomes: ExperimentOutcome[];
  /** From the results query: how many outcomes the campaign has (`outcomes` is one page of them). */
  totalOutcomes?: number;
  /** In a large campaign's workflow result: its outcomes are left out (this many); read them by page. */
  outcomesOmitted?: number;
}
