import { ApplicationFailure, Context } from '@temporalio/activity';
import type { CampaignResults } from '../domain/campaign-status';
import {
  postWebhook,
  webhookTargetsFromEnv,
  WebhookError,
  type CampaignNotification,
  type WebhookTarget,
} from '../notifications/webhooks';

/**
 * What a campaign leaves for people: its HTML report, written when it ends, and webhook
 * notifications. Both run on the orchestration worker (they touch no hardware). The report
 * module, and Vega with it, is loaded on first use only.
 */
export interface CampaignOutputDeps {
  /** Folder the end-of-campaign reports go to (default CELLOS_REPORTS_DIR, else var/reports). */
  reportsDir?: string;
  env?: NodeJS.ProcessEnv;
  fetch?: typeof fetch;
}

export interface SendNotificationInput {
  notification: CampaignNotification;
  /** The same on every attempt of one event: the receiver's dedupe key. */
  idempotencyKey: string;
  /** The campaign's own targets (its config); the worker's environment adds its own. */
  webhooks?: WebhookTarget[];
}

export const NOTIFICATION_FAILURE = 'NotificationRefused';

export function createCampaignOutputActivities(deps: CampaignOutputDeps = {}) {
  const env = deps.env ?? process.env;
  return {
    /** Render the report from the campaign's final results; returns the file's absolute path. */
    async writeCampaignReport(input: { results: CampaignResults }): Promise<{ path: string }> {
      const { defaultReportPath, writeReport } = await import('../report/index');
      const dir = deps.reportsDir ?? env.CELLOS_REPORTS_DIR;
      const path = await writeReport(input.results, defaultReportPath(input.results.status.campaignId, dir));
      return { path };
    },

    /**
     * POST one event to every target. Targets already served are remembered in the heartbeat
     * details, so a retry after one target failed does not send the event again to the others.
     */
    async sendNotification(input: SendNotificationInput): Promise<{ delivered: number; refused: string[] }> {
      const targets = dedupe([...(input.webhooks ?? []), ...webhookTargetsFromEnv(env)]);
      const ctx = Context.current();
      // The worker knows where its Web UI is (CELLOS_UI_URL); the workflow does not.
      const ui = env.CELLOS_UI_URL?.replace(/\/+$/, '');
      const notification =
        ui && !input.notification.url
          ? {
              ...input.notification,
              url: `${ui}/namespaces/${encodeURIComponent(ctx.info.workflowNamespace ?? 'default')}/workflows/${encodeURIComponent(input.notification.campaignId)}`,
            }
          : input.notification;
      const done = new Set<string>((ctx.info.heartbeatDetails as string[] | undefined) ?? []);
      const refused: string[] = [];
      let transient: Error | undefined;
      for (const target of targets) {
        const key = `${target.format} ${target.url}`;
        if (done.has(key)) continue;
        try {
          await postWebhook(target, notification, input.idempotencyKey, { fetch: deps.fetch });
          done.add(key);
        } catch (err) {
          if (err instanceof WebhookError && err.permanent) {
            refused.push(err.message);
            done.add(key); // a 4xx will not change on retry: do not ask again
          } else transient = err as Error;
        }
        ctx.heartbeat([...done]);
      }
      if (transient) throw transient; // retried by policy; served targets are skipped
      if (refused.length > 0 && refused.length === targets.length)
        throw ApplicationFailure.nonRetryable(
          `every webhook refused the event: ${refused.join('; ')}`,
          NOTIFICATION_FAILURE,
        );
      return { delivered: targets.length - refused.length, refused };
    },
  };
}

function dedupe(targets: WebhookTarget[]): WebhookTarget[] {
  const seen = new Map<string, WebhookTarget>();
  for (const t of targets) seen.set(`${t.format} ${t.url}`, t);
  return [...seen.values()];
}

export type CampaignOutputActivities = ReturnType<typeof createCampaignOutputActivities>;
