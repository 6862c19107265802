import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WorkflowFailedError } from '@temporalio/client';
import { Worker } from '@temporalio/worker';
import { createInventoryActivities } from '../../src/activities/inventory-activities';
import { approveBatch, startCampaign, stopCampaign } from '../../src/client/campaign-client';
import { builtinLabConfig } from '../../src/config/lab-config';
import { InventoryStore } from '../../src/inventory/inventory-store';
import { inventoryTaskQueue } from '../../src/temporal/task-queues';
import { createOrchestrationWorker } from '../../src/workers/orchestration';
import { restock } from '../../src/client/stockroom-client';
import { DEFAULT_STOCK } from '../../src/inventory/default-stock';
import { IDEMPOTENCY_HEADER } from '../../src/notifications/webhooks';
import { statusQuery } from '../../src/temporal/messages';
import { profileWithFaults, testConfig } from '../helpers/configs';
import { openTestEnv, uniqueName, withWorkers, type TemporalTestEnv } from '../helpers/temporal-env';
import { waitFor } from '../helpers/wait';

/** A local webhook receiver: records every request; `failFirst` answers 503 to the first N attempts of each key. */
interface Receiver {
  url: string;
  requests: { key: string; body: Record<string, unknown>; status: number }[];
  close(): Promise<void>;
}

async function receiver(failFirst = 0): Promise<Receiver> {
  const requests: Receiver['requests'] = [];
  const attempts = new Map<string, number>();
  const server: Server = createServer((req: IncomingMessage, res) => {
    let raw = '';
    req.on('data', (c: Buffer) => (raw += c.toString()));
    req.on('end', () => {
      const key = String(req.headers[IDEMPOTENCY_HEADER.toLowerCase()] ?? '');
      const n = (attempts.get(key) ?? 0) + 1;
      attempts.set(key, n);
      const status = n <= failFirst ? 503 : 200;
      requests.push({ key, body: JSON.parse(raw) as Record<string, unknown>, status });
      res.writeHead(status).end();
    });
  });
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  return {
    url: `http://127.0.0.1:${port}/hooks/cellos`,
    requests,
    close: () => new Promise((ok) => server.close(() => ok())),
  };
}

let env: TemporalTestEnv;
const reportsDir = mkdtempSync(join(tmpdir(), 'cellos-reports-'));
beforeAll(async () => {
  process.env.CELLOS_REPORTS_DIR = reportsDir; // read by the in-process orchestration worker's activities
  env = await openTestEnv();
});
afterAll(async () => {
  await env?.close();
});

describe('what a campaign leaves for people', () => {
  it('writes its report when it ends, names it in status, and tells each webhook once per event', async () => {
    const flaky = await receiver(2); // generic JSON, fails every event twice before taking it
    const slack = await receiver(0);
    try {
      await withWorkers(env, async (lab) => {
        const config = testConfig({
          maxIterations: 1,
          approval: 'required',
          notifications: {
            webhooks: [
              { url: flaky.url, format: 'json' },
              { url: slack.url, format: 'slack' },
            ],
          },
        });
        const opts = { client: env.client, ...lab };
        const handle = await startCampaign(opts, config, `campaign-${config.name}`);
        await waitFor(
          () => handle.query(statusQuery),
          (s) => s.state === 'awaiting approval',
        );
        // The live summary in the Web UI says what the campaign needs from a person.
        const metadata = await handle.query<{ currentDetails: string }>('__temporal_workflow_metadata');
        expect(metadata.currentDetails).toContain('awaiting approval');
        expect(metadata.currentDetails).toMatch(/Needs a person[\s\S]*approve or reject \d+ proposed wells/);
        await waitFor(
          async () => flaky.requests.filter((r) => r.status === 200).length,
          (n) => n >= 1,
        );
        await approveBatch(opts, handle.workflowId);
        const results = await handle.result();

        expect(results.status.state).toBe('completed');
        const path = results.status.reportPath!;
        expect(path.startsWith(reportsDir)).toBe(true);
        expect(existsSync(path)).toBe(true);
        expect(readFileSync(path, 'utf8')).toContain('<svg');
        const final = await handle.query<{ currentDetails: string }>('__temporal_workflow_metadata');
        expect(final.currentDetails).toContain(`Report: \`${path}\``);
        expect(final.currentDetails).toMatch(/\| U2OS \| staurosporine \|/);

        // The flaky receiver saw each event three times under one key (two 503s, then 200).
        const delivered = flaky.requests.filter((r) => r.status === 200);
        expect(delivered.map((r) => r.body.type)).toEqual(['campaign.needs-person', 'campaign.ended']);
        for (const d of delivered) {
          const tries = flaky.requests.filter((r) => r.key === d.key);
          expect(tries.map((r) => r.status)).toEqual([503, 503, 200]);
          expect(d.body.idempotencyKey).toBe(d.key);
        }
        expect(new Set(delivered.map((r) => r.key)).size).toBe(2);
        expect(delivered[1]!.body).toMatchObject({ kind: 'ended', state: 'completed', reportPath: path });
        // The other receiver took each event the first time and was not sent it again on the retries.
        expect(slack.requests.map((r) => r.key)).toEqual(delivered.map((r) => r.key));
        const slackEnded = slack.requests[1]!.body as { text: string; blocks: { text: { text: string } }[] };
        expect(slackEnded.text).toContain(`${handle.workflowId} ended: completed`);
        expect(slackEnded.blocks[0]!.text.text).toContain(path);
      });
    } finally {
      await flaky.close();
      await slack.close();
    }
  });

  it('tells the webhooks once when wells have waited on stock longer than the set time', async () => {
    const hook = await receiver(0);
    // 6 wells need 18 tips; the lab has 10, so wells wait for tips until a restock.
    const initialStock = DEFAULT_STOCK.map((item) => (item.item === 'tips' ? { ...item, level: 10 } : item));
    try {
      await withWorkers(
        env,
        async (lab) => {
          const opts = { client: env.client, ...lab };
          const config = testConfig({
            maxIterations: 1,
            notifications: { webhooks: [{ url: hook.url, format: 'json' }], waitAlertMinutes: 0.05 },
          });
          const handle = await startCampaign(opts, config, `campaign-${config.name}`);
          const alert = await waitFor(
            async () => hook.requests.find((r) => r.body.kind === 'waiting-too-long'),
            (r) => r !== undefined,
          );
          expect(alert!.body.headline).toMatch(/has waited 0\.05 min for stock .*tips/);
          expect(alert!.body.detail).toMatch(/wait for stock: .*tips.*cellos restock/);
          // Still waiting a while later: no second alert for the same wait.
          await new Promise((r) => setTimeout(r, 5_000));
          expect(hook.requests.filter((r) => r.body.kind === 'waiting-too-long')).toHaveLength(1);
          await restock(opts, { item: 'tips', amount: 96 });
          const results = await handle.result();
          expect(results.status.state).toBe('completed');
          expect(hook.requests.map((r) => r.body.kind)).toEqual(['waiting-too-long', 'ended']);
        },
        { initialStock },
      );
    } finally {
      await hook.close();
    }
  });

  it('tells each webhook once, under one key, when the campaign pauses itself on failing wells', async () => {
    const hook = await receiver(1); // answers 503 to the first attempt of each event
    try {
      await withWorkers(
        env,
        async (lab) => {
          const opts = { client: env.client, ...lab };
          const config = testConfig({
            maxIterations: 3,
            failurePause: { maxFailureRate: 0.3, minExperiments: 2 },
            notifications: { webhooks: [{ url: hook.url, format: 'json' }] },
          });
          const handle = await startCampaign(opts, config, `campaign-${config.name}`);
          const paused = await waitFor(
            () => handle.query(statusQuery),
            (st) => st.state === 'paused',
            60_000,
          );
          expect(paused.detail).toMatch(/paused itself: \d+ of \d+ experiments failed \(Contamination\)/);
          await waitFor(
            async () => hook.requests.filter((r) => r.body.kind === 'paused-itself' && r.status === 200).length,
            (n) => n === 1,
          );
          await stopCampaign(opts, handle.workflowId);
          const results = await handle.result();
          expect(results.status.state).toBe('stopped');

          const delivered = hook.requests.filter((r) => r.status === 200);
          expect(delivered.map((r) => r.body.kind)).toEqual(['paused-itself', 'ended']);
          const pausedEvent = delivered[0]!;
          const { runId } = await handle.describe();
          expect(pausedEvent.key).toMatch(new RegExp(`^${handle.workflowId}/${runId}/\\d+/paused-itself$`));
          expect(pausedEvent.body).toMatchObject({
            type: 'campaign.paused-itself',
            idempotencyKey: pausedEvent.key,
            campaignId: handle.workflowId,
            headline: `${handle.workflowId} paused itself`,
            state: 'paused',
          });
          expect(pausedEvent.body.detail).toBe(paused.detail);
          // The retry of the refused first attempt carried the same key; nothing else did.
          expect(hook.requests.filter((r) => r.key === pausedEvent.key).map((r) => r.status)).toEqual([503, 200]);
        },
        { profile: profileWithFaults({ contaminationRate: 1, transientErrorRate: 0 }) },
      );
    } finally {
      await hook.close();
    }
  });

  it('tells each webhook once, under one key, when the campaign fails', async () => {
    const hook = await receiver(1);
    const id = uniqueName('outputs-failed');
    const orchestrationTaskQueue = `test-orchestration-${id}`;
    const labTaskQueue = `test-lab-${id}`;
    // A stockroom worker that was not given its lab: the campaign's first question to the lab (its
    // catalogue, for prices) fails for good, and so does the campaign.
    const store = InventoryStore.open(join(mkdtempSync(join(tmpdir(), 'cellos-lab-')), 'lab.db'));
    const stockroom = await Worker.create({
      connection: env.connection,
      namespace: 'default',
      taskQueue: inventoryTaskQueue(labTaskQueue),
      activities: createInventoryActivities(store),
    });
    const orchestration = await createOrchestrationWorker({
      connection: env.connection,
      namespace: 'default',
      taskQueue: orchestrationTaskQueue,
      workflowBundle: env.bundle,
      client: env.client,
      labConfig: builtinLabConfig(),
    });
    try {
      const config = testConfig({ notifications: { webhooks: [{ url: hook.url, format: 'json' }] } });
      const opts = { client: env.client, orchestrationTaskQueue, labTaskQueue };
      const run = async () => {
        const handle = await startCampaign(opts, config, `campaign-${config.name}`);
        const failure = await handle.result().then(
          () => undefined,
          (e: unknown) => e,
        );
        return { handle, failure };
      };
      const { handle, failure } = await orchestration.runUntil(stockroom.runUntil(run()));
      expect(failure).toBeInstanceOf(WorkflowFailedError);
      expect((await handle.describe()).status.name).toBe('FAILED');

      const delivered = hook.requests.filter((r) => r.status === 200);
      expect(delivered.map((r) => r.body.kind)).toEqual(['failed']);
      const failed = delivered[0]!;
      const { runId } = await handle.describe();
      expect(failed.key).toMatch(new RegExp(`^${handle.workflowId}/${runId}/\\d+/failed$`));
      expect(failed.body).toMatchObject({
        type: 'campaign.failed',
        idempotencyKey: failed.key,
        campaignId: handle.workflowId,
        headline: `${handle.workflowId} failed`,
        state: 'failed',
      });
      expect(hook.requests.filter((r) => r.key === failed.key).map((r) => r.status)).toEqual([503, 200]);
    } finally {
      store.close();
      await hook.close();
    }
  });
});
