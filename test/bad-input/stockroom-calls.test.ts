import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { main, parseStockroomCall } from '../../src/client/cli';
import { CliError } from '../../src/client/campaign-client';
import { inventoryReport, restock, STOCKROOM_TIMEOUT_EXIT } from '../../src/client/stockroom-client';
import { InventoryStore } from '../../src/inventory/inventory-store';
import { openTestEnv, withWorkers, type TemporalTestEnv } from '../helpers/temporal-env';
import { waitFor } from '../helpers/wait';

/**
 * Stockroom calls with the workers down: they never hang (each gives up after its wait, says what
 * became of the request, names the worker that must run and exits non-zero) and never apply twice
 * (a retried or abandoned call with one key restocks once when the workers come back).
 */
let env: TemporalTestEnv;
beforeAll(async () => {
  env = await openTestEnv();
}, 60_000);
afterAll(async () => {
  await env?.close();
});

function queues() {
  const id = randomUUID().slice(0, 8);
  return { orchestrationTaskQueue: `test-stockroom-orch-${id}`, labTaskQueue: `test-stockroom-lab-${id}` };
}

async function refusal(promise: Promise<unknown>): Promise<CliError> {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(CliError);
  return err as CliError;
}

function tipsRestocks(labDbPath: string) {
  const store = InventoryStore.open(labDbPath);
  try {
    return { restocks: store.restocks({ item: 'tips' }), level: store.getItem('tips')!.level };
  } finally {
    store.close();
  }
}

describe('stockroom calls with the workers down', () => {
  it('a restock gives up after its wait, names both workers, stays queued, and its key applies it once', async () => {
    const q = queues();
    const opts = { client: env.client, ...q };
    const key = `test-${randomUUID().slice(0, 8)}`;
    const first = await refusal(restock(opts, { item: 'tips', amount: 10 }, { key, waitMs: 1_000 }));
    expect(first.exitCode).toBe(STOCKROOM_TIMEOUT_EXIT);
    expect(first.message).toMatch(/restock of 10 tips not done within 1 s/);
    expect(first.message).toContain(`"${q.orchestrationTaskQueue}" (start \`npm run worker:orchestration\`)`);
    expect(first.message).toContain(`"${q.labTaskQueue}-inventory" (start \`npm run worker:lab\`)`);
    expect(first.message).toMatch(/queued as workflow stockroom-restock-test-.*applied once/);
    expect(first.message).toContain(`--key ${key}`);
    // The person retries the same call: it joins the queued request instead of adding another.
    await refusal(restock(opts, { item: 'tips', amount: 10 }, { key, waitMs: 500 }));

    await withWorkers(
      env,
      async (lab) => {
        const record = await restock(opts, { item: 'tips', amount: 10 }, { key, waitMs: 30_000 });
        expect(record.requestId).toBe(key);
        // Once more after it was applied (a retried command): the first record, nothing added.
        const again = await restock(opts, { item: 'tips', amount: 10 }, { key, waitMs: 30_000 });
        expect(again.restockId).toBe(record.restockId);
        const { restocks, level } = tipsRestocks(lab.labDbPath);
        expect(restocks.filter((r) => r.reason === 'restock')).toHaveLength(1);
        expect(level).toBe(record.levelBefore + 10);
      },
      q,
    );
  }, 90_000);

  it('without a key, a second identical restock while the first is queued is refused instead of doubling', async () => {
    const q = queues();
    const opts = { client: env.client, ...q };
    const first = await refusal(restock(opts, { item: 'tips', amount: 10 }, { waitMs: 500 }));
    expect(first.exitCode).toBe(STOCKROOM_TIMEOUT_EXIT);
    const key = /--key (\S+)`/.exec(first.message)![1]!;
    // The check reads visibility, which lags the start by a moment.
    await waitFor(
      async () => {
        const ids: string[] = [];
        for await (const wf of env.client.workflow.list({
          query: `WorkflowType = 'restockWorkflow' AND ExecutionStatus = 'Running'`,
        }))
          ids.push(wf.workflowId);
        return ids;
      },
      (ids) => ids.includes(`stockroom-restock-${key}`),
      15_000,
    );
    const second = await refusal(restock(opts, { item: 'tips', amount: 10 }, { waitMs: 500 }));
    expect(second.exitCode).toBe(STOCKROOM_TIMEOUT_EXIT);
    expect(second.message).toMatch(/a restock of 10 tips is already queued/);
    expect(second.message).toContain(`(key ${key})`);
    await withWorkers(
      env,
      async (lab) => {
        await env.client.workflow.getHandle(`stockroom-restock-${key}`).result();
        const { restocks } = tipsRestocks(lab.labDbPath);
        expect(restocks.filter((r) => r.reason === 'restock').map((r) => r.amount)).toEqual([10]);
      },
      q,
    );
  }, 90_000);

  it('an inventory report gives up after its wait, is withdrawn, and says nothing was done', async () => {
    const q = queues();
    const err = await refusal(inventoryReport({ client: env.client, ...q }, undefined, { waitMs: 500 }));
    expect(err.exitCode).toBe(STOCKROOM_TIMEOUT_EXIT);
    expect(err.message).toMatch(/inventory report not done within 0.5 s: no worker polls/);
    expect(err.message).toMatch(/nothing was done/);
    const withdrawn = await env.client.workflow.list({ query: `WorkflowType = 'inventoryReportWorkflow'` });
    const mine: string[] = [];
    for await (const wf of withdrawn) if (wf.taskQueue === q.orchestrationTaskQueue) mine.push(wf.status.name);
    expect(mine).toEqual(['TERMINATED']);
  }, 30_000);

  it('the CLI prints one error line naming the worker and exits 3, with no stack trace', async () => {
    const q = queues();
    const errors: string[] = [];
    const spy = vi.spyOn(console, 'error').mockImplementation((...a: unknown[]) => void errors.push(a.join(' ')));
    const saved = { ...process.env };
    Object.assign(process.env, {
      TEMPORAL_ADDRESS: env.address,
      CELLOS_ORCHESTRATION_TASK_QUEUE: q.orchestrationTaskQueue,
      CELLOS_LAB_TASK_QUEUE: q.labTaskQueue,
    });
    process.exitCode = undefined;
    try {
      await main(['restock', 'tips', '10', '--wait', '0.5', '--key', `cli-${randomUUID().slice(0, 8)}`]);
      expect(process.exitCode).toBe(3);
      expect(errors.join('\n')).toMatch(/^error: restock of 10 tips not done within 0.5 s: no worker polls/);
      expect(errors.join('\n')).not.toMatch(/\n\s+at /);
    } finally {
      spy.mockRestore();
      process.env = saved;
      process.exitCode = undefined;
    }
  }, 30_000);
});

describe('stockroom flags', () => {
  it.each([
    [{ wait: 'soon' }, /--wait: "soon" is not allowed; give the seconds/],
    [{ wait: '0' }, /--wait: "0" is not allowed/],
    [{ wait: '-1' }, /--wait: "-1" is not allowed/],
    [{ wait: '1e9' }, /--wait: "1e9" is not allowed/],
    [{ wait: '3601' }, /--wait: "3601" is not allowed/],
    [{ key: 'has space' }, /--key: "has space" is not allowed; use 1-100 letters/],
    [{ key: '' }, /--key: "" is not allowed/],
    [{ key: 'x'.repeat(101) }, /--key: "x+" is not allowed/],
  ])('refuses %j before connecting (exit 2)', (flags, message) => {
    let err: unknown;
    try {
      parseStockroomCall(flags);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(CliError);
    expect((err as CliError).exitCode).toBe(2);
    expect((err as CliError).message).toMatch(message);
  });

  it('takes a key and seconds to wait', () => {
    expect(parseStockroomCall({ key: 'restock-2026-12-02.a', wait: '2.5' })).toEqual({
      key: 'restock-2026-12-02.a',
      waitMs: 2_500,
    });
  });
});
