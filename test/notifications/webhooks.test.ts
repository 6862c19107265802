import { createServer } from 'node:http';
import { describe, expect, it } from 'vitest';
import {
  IDEMPOTENCY_HEADER,
  postWebhook,
  redact,
  slackBody,
  webhookTargetsFromEnv,
  WebhookError,
  type CampaignNotification,
} from '../../src/notifications/webhooks';

const event: CampaignNotification = {
  kind: 'ended',
  campaignId: 'campaign-demo',
  headline: 'campaign-demo ended: goal reached',
  detail: 'every pair is answered',
  state: 'goal reached',
  reportPath: '/srv/reports/campaign-demo.html',
  at: '2026-12-01T10:00:00.000Z',
};

async function answering(status: number): Promise<{ url: string; close: () => Promise<void>; headers: string[] }> {
  const headers: string[] = [];
  const server = createServer((req, res) => {
    headers.push(String(req.headers[IDEMPOTENCY_HEADER.toLowerCase()]));
    req.resume();
    req.on('end', () => res.writeHead(status).end());
  });
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
  const a = server.address();
  const port = typeof a === 'object' && a ? a.port : 0;
  return {
    url: `http://127.0.0.1:${port}/T000/B000/secret`,
    headers,
    close: () => new Promise((ok) => server.close(() => ok())),
  };
}

describe('webhooks', () => {
  it('send the idempotency key, and tell a refusal that no retry changes from one that may pass later', async () => {
    for (const [status, permanent] of [
      [400, true],
      [404, true],
      [429, false],
      [503, false],
    ] as const) {
      const s = await answering(status);
      try {
        const err = await postWebhook({ url: s.url, format: 'json' }, event, 'key-1').catch((e: unknown) => e);
        expect(err).toBeInstanceOf(WebhookError);
        expect((err as WebhookError).permanent).toBe(permanent);
        // The secret path of a webhook URL never shows in an error.
        expect((err as Error).message).not.toContain('secret');
        expect(s.headers).toEqual(['key-1']);
      } finally {
        await s.close();
      }
    }
    const ok = await answering(204);
    await expect(postWebhook({ url: ok.url, format: 'slack' }, event, 'key-2')).resolves.toBeUndefined();
    await ok.close();
    const unreachable = (await postWebhook({ url: 'http://127.0.0.1:1/x', format: 'json' }, event, 'k').catch(
      (e: unknown) => e,
    )) as WebhookError;
    expect(unreachable.permanent).toBe(false);
  });

  it('read targets from the environment and shape a Slack message', () => {
    expect(
      webhookTargetsFromEnv({
        CELLOS_WEBHOOK_URLS: 'http://a/1, http://b/2',
        CELLOS_SLACK_WEBHOOK_URLS: 'https://s/3',
      }),
    ).toEqual([
      { url: 'http://a/1', format: 'json' },
      { url: 'http://b/2', format: 'json' },
      { url: 'https://s/3', format: 'slack' },
    ]);
    const body = slackBody(event);
    expect(body.text).toContain('campaign-demo ended: goal reached');
    expect(JSON.stringify(body.blocks)).toContain('/srv/reports/campaign-demo.html');
    expect(redact('https://hooks.slack.com/services/T/B/xyz')).toBe('https://hooks.slack.com/…');
  });
});
