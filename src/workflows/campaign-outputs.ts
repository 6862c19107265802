import { proxyActivities, proxyLocalActivities, workflowInfo } from '@temporalio/workflow';
import type { CampaignOutputActivities } from '../activities/campaign-output-activities';
import type { CampaignConfig } from '../config/campaign-config';
import type { CampaignResults } from '../domain/campaign-status';
import type { NotificationKind } from '../notifications/webhooks';

/** Report and notifications: what a campaign leaves for the people around it. */
export function campaignOutputs(config: CampaignConfig, on: boolean) {
  const options = {
    startToCloseTimeout: '2 minutes',
    retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumAttempts: 6 },
  } as const;
  const pending: Promise<unknown>[] = [];
  let sequence = 0;
  return {
    on,
    /** Sent in the background (a slow receiver never holds the lab up); `flush` waits for them. */
    notify(kind: NotificationKind, headline: string, detail: string, state: string, reportPath?: string): void {
      if (!on) return;
      sequence += 1;
      const { workflowId, runId } = workflowInfo();
      const { sendNotification } = proxyActivities<CampaignOutputActivities>({
        ...options,
        summary: `notify: ${kind}`,
      });
      const sent = sendNotification({
        notification: {
          kind,
          campaignId: workflowId,
          headline,
          detail,
          state,
          at: new Date().toISOString(),
          ...(reportPath ? { reportPath } : {}),
        },
        idempotencyKey: `${workflowId}/${runId}/${sequence}/${kind}`,
        webhooks: config.notifications?.webhooks ?? [],
      });
      pending.push(sent.catch(() => undefined)); // a notification that cannot be sent never fails the campaign
    },
    /** `local`: the results (every well) stay in the worker, and only the report's path enters history. */
    async writeReport(results: CampaignResults, local: boolean): Promise<string | undefined> {
      if (!on) return undefined;
      const reportOptions = {
        ...options,
        retry: { ...options.retry, maximumAttempts: 3 },
        summary: 'write the campaign report',
      };
      const { writeCampaignReport } = local
        ? proxyLocalActivities<CampaignOutputActivities>(reportOptions)
        : proxyActivities<CampaignOutputActivities>(reportOptions);
      return (await writeCampaignReport({ results }).catch(() => undefined))?.path;
    },
    flush: () => Promise.all(pending),
  };
}

export type CampaignOutputs = ReturnType<typeof campaignOutputs>;
