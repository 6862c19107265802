import type { CostCategory } from './costs';
import type { ProposerSettings } from '../learner/proposer';
import type { ExperimentOutcome, PairEstimate, Proposal } from './types';

export const CAMPAIGN_STATES = [
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
}

/** What `cellos results` shows, and what the campaign workflow returns. */
export interface CampaignResults {
  status: CampaignStatus;
  outcomes: ExperimentOutcome[];
}
