import { proxyActivities, proxyLocalActivities } from '@temporalio/workflow';
import type { InventoryActivities } from '../activities/inventory-activities';
import type { LearnerActivities } from '../activities/learner-activities';
import type { LabCatalogue } from '../domain/lab-catalogue';
import { inventoryTaskQueue } from '../temporal/task-queues';
import type { ProposeOutput } from '../learner/proposer';
import type { CampaignContext } from './campaign-context';

/**
 * Asks the learner for the next batch (or, with no room, only for fresh estimates), and keeps the
 * estimates it returns. A rejected batch is re-proposed under a new id prefix (`i003r1`). The
 * learner's input grows with every well; as a local activity (every campaign started now) it stays
 * in the worker, and history holds only the proposals and estimates.
 */
export async function learn(
  context: CampaignContext,
  iteration: number,
  maxTreatments: number,
): Promise<ProposeOutput> {
  const { state } = context;
  state.snapshot.proposalRounds += 1;
  const round = state.snapshot.rejected.filter((r) => r.iteration === iteration).length;
  const options = {
    // A batch takes seconds (64 pairs: ~2 s); the learner cannot heartbeat mid-computation, so a
    // short limit is what lets a batch move on quickly when its worker is killed while learning.
    startToCloseTimeout: '1 minute',
    retry: { initialInterval: '1 second', maximumAttempts: 5 },
    summary: maxTreatments > 0 ? `learn: propose batch ${iteration}` : 'learn: final estimates',
  } as const;
  // Every observation so far is the learner's input: in the worker, only its answer enters history.
  const { proposeBatch } = context.localActivities
    ? proxyLocalActivities<LearnerActivities>(options)
    : proxyActivities<LearnerActivities>(options);
  const proposed = await proposeBatch({
    proposer: state.config.proposer,
    settings: state.learnerSettings(),
    observations: state.observations(),
    controlObservations: state.controlObservations(),
    triedDoses: state.triedDoses(),
    iteration,
    maxTreatments,
    idPrefix: `i${String(iteration).padStart(3, '0')}${round > 0 ? `r${round}` : ''}`,
  });
  state.snapshot.estimates = proposed.estimates;
  state.estimatesAtIteration = state.snapshot.iteration;
  return proposed;
}

/** The lab's catalogue (prices, instrument timings), asked for once at the campaign's start. */
export async function askTheLab(context: CampaignContext): Promise<LabCatalogue> {
  // No lab worker up yet: the campaign waits for one (retries without limit) rather than failing.
  const { describeLab } = proxyActivities<InventoryActivities>({
    taskQueue: inventoryTaskQueue(context.labTaskQueue),
    startToCloseTimeout: '30 seconds',
    retry: { initialInterval: '1 second', maximumInterval: '30 seconds' },
    summary: 'ask the lab for its catalogue (prices)',
  });
  return describeLab();
}
