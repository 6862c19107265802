/**
 * Campaign notifications as webhooks: a Slack-compatible body (`{ text, blocks }`, what an
 * incoming-webhook URL takes) or a generic JSON event. Targets come from the campaign's config
 * and from the environment of the worker that sends them:
 *   CELLOS_WEBHOOK_URLS        comma-separated URLs that receive the generic JSON event
 *   CELLOS_SLACK_WEBHOOK_URLS  comma-separated Slack incoming-webhook URLs
 * Every request carries an `Idempotency-Key` header, the same on every retry of one event, so a
 * receiver that saw a delivery whose answer was lost can drop the repeat.
 */

export const NOTIFICATION_KINDS = ['ended', 'needs-person', 'paused-itself', 'waiting-too-long', 'failed'] as const;
export type NotificationKind = (typeof NOTIFICATION_KINDS)[number];

export const WEBHOOK_FORMATS = ['json', 'slack'] as const;
export type WebhookFormat = (typeof WEBHOOK_FORMATS)[number];

export interface WebhookTarget {
  url: string;
  format: WebhookFormat;
}

export interface CampaignNotification {
  kind: NotificationKind;
  campaignId: string;
  /** One line a person reads first, e.g. "campaign-demo ended: goal reached". */
  headline: string;
  /** The why, in words. */
  detail: string;
  /** The campaign's state when the event happened. */
  state: string;
  /** The HTML report, for "ended". */
  reportPath?: string;
  /** The campaign in the Web UI. */
  url?: string;
  /** ISO time of the event (workflow time). */
  at: string;
}

export const IDEMPOTENCY_HEADER = 'Idempotency-Key';

export function webhookTargetsFromEnv(env: NodeJS.ProcessEnv = process.env): WebhookTarget[] {
  const urls = (name: string) =>
    (env[name] ?? '')
      .split(',')
      .map((u) => u.trim())
      .filter((u) => u !== '');
  return [
    ...urls('CELLOS_WEBHOOK_URLS').map((url) => ({ url, format: 'json' as const })),
    ...urls('CELLOS_SLACK_WEBHOOK_URLS').map((url) => ({ url, format: 'slack' as const })),
  ];
}

const EMOJI: Record<NotificationKind, string> = {
  ended: ':white_check_mark:',
  'needs-person': ':raising_hand:',
  'paused-itself': ':double_vertical_bar:',
  'waiting-too-long': ':hourglass:',
  failed: ':x:',
};

/** The body a Slack incoming webhook takes: `text` for notifications, `blocks` for the message. */
export function slackBody(n: CampaignNotification): { text: string; blocks: unknown[] } {
  const lines = [`*${n.headline}*`, n.detail];
  if (n.reportPath) lines.push(`report: \`${n.reportPath}\``);
  if (n.url) lines.push(`<${n.url}|open in the Temporal Web UI>`);
  return {
    text: `${EMOJI[n.kind]} ${n.headline}`,
    blocks: [{ type: 'section', text: { type: 'mrkdwn', text: lines.filter((l) => l !== '').join('\n') } }],
  };
}

export function jsonBody(n: CampaignNotification, idempotencyKey: string): Record<string, unknown> {
  return { type: `campaign.${n.kind}`, idempotencyKey, ...n };
}

/** A refusal that no retry can change (4xx other than 408 and 429): thrown as `permanent`. */
export class WebhookError extends Error {
  constructor(
    message: string,
    readonly permanent: boolean,
  ) {
    super(message);
    this.name = 'WebhookError';
  }
}

/** POST one event to one target; resolves on any 2xx, throws WebhookError otherwise. */
export async function postWebhook(
  target: WebhookTarget,
  n: CampaignNotification,
  idempotencyKey: string,
  options: { timeoutMs?: number; fetch?: typeof fetch } = {},
): Promise<void> {
  const body = target.format === 'slack' ? slackBody(n) : jsonBody(n, idempotencyKey);
  let response: Response;
  try {
    response = await (options.fetch ?? fetch)(target.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', [IDEMPOTENCY_HEADER]: idempotencyKey },
      body: JSON.stringify(body),
      signal: AbortSignal.timeout(options.timeoutMs ?? 10_000),
    });
  } catch (err) {
    throw new WebhookError(`webhook ${redact(target.url)} unreachable: ${(err as Error).message}`, false);
  }
  await response.body?.cancel().catch(() => undefined);
  if (response.ok) return;
  const permanent = response.status >= 400 && response.status < 500 && ![408, 429].includes(response.status);
  throw new WebhookError(`webhook ${redact(target.url)} answered ${response.status}`, permanent);
}

/** A webhook URL's path is its secret (Slack's are): logs and errors show only scheme and host. */
export function redact(url: string): string {
  try {
    const u = new URL(url);
    return `${u.protocol}//${u.host}/…`;
  } catch {
    return '(not a URL)';
  }
}
