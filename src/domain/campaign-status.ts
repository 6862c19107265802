import type { ExperimentOutcome, PairEstimate } from './types';

export const CAMPAIGN_STATES = [
  'running',
  'paused',
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
  experiments: { done: number; running: number; failed: number; controls: number };
  spentUsd: number;
  committedUsd: number;
  budgetUsd: number;
  paused: boolean;
  stopRequested: boolean;
  estimates: PairEstimate[];
  /** Number of continue-as-new hand-overs so far. */
  runs: number;
  /** Offline instruments that running experiments are waiting for. */
  waitingFor: { instrument: string; experiments: number }[];
}

/** What `cellos results` shows, and what the campaign workflow returns. */
export interface CampaignResults {
  status: CampaignStatus;
  outcomes: ExperimentOutcome[];
}
