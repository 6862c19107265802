import { allHandlersFinished, condition } from '@temporalio/workflow';
import type { CampaignResults, CampaignState } from '../domain/campaign-status';
import { type CampaignContext, setLifecycle } from './campaign-context';
import { learn } from './campaign-learning';

/**
 * How a campaign ends, whatever ends it: fresh estimates when results arrived since the learner
 * last ran, an ending that names every pair's state ("goal reached" only when every pair is
 * answered), the report, the "ended" notification, and the result (a large campaign's outcomes are
 * left to the paged results query).
 */
export async function finishCampaign(
  context: CampaignContext,
  lifecycle: CampaignState,
  detail: string,
): Promise<CampaignResults> {
  const { state, outputs, campaignId } = context;
  if (state.estimatesAtIteration !== state.snapshot.iteration) await learn(context, state.snapshot.iteration + 1, 0);
  const ending = state.ending(lifecycle, detail);
  setLifecycle(context, ending.lifecycle, ending.detail);
  // The report is written from the final results; a report that cannot be written never fails the campaign.
  const final = { status: state.status(), outcomes: state.snapshot.outcomes };
  state.reportPath = await outputs.writeReport(final, context.localActivities);
  const headline = `${campaignId} ended: ${ending.lifecycle}`;
  outputs.notify('ended', headline, ending.detail, ending.lifecycle, state.reportPath);
  await outputs.flush();
  await condition(allHandlersFinished);
  return state.finalResults();
}
