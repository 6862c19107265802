import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { main, parseStockroomCall } from '../../src/client/cli';
import { CliError } from '../../src/client/campaign-client';
import { describeLab, inventoryReport, restock, STOCKROOM_TIMEOUT_EXIT } from '../../src/client/stockroom-client';
import { InventoryStore } from '../../src/inventory/inventory-store';
import { WorkflowUpdateFailedError } from '@temporalio/client';
import { builtinLabConfig } from '../../src/config/lab-config';
import { stockroomWorkflowId } from '../../src/temporal/task-queues';
import { createOrchestrationWorker } from '../../src/workers/orchestration';
import { openTestEnv, withWorkers, type TemporalTestEnv } from '../helpers/temporal-env';

/**
 * Stockroom calls with the workers down: they never hang (each gives up after its wait, says what
 * became of the request, names the worker that must run and exits non-zero) and never apply twice
 * (a retried or abandoned call with one key restocks once when the workers come back). They are
 * updates to one stockroom workflow per lab, so they leave no workflow of their own behind.
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

/** The messages of an error and its causes, outermost first. */
function causes(err: unknown): string {
  const messages: string[] = [];
  for (let e = err; e instanceof Error; e = e.cause) messages.push(e.message);
  return messages.join(' / ');
}

function tipsRestocks(labDbPath: string) {
  const store = InventoryStore.open(labDbPath);
  try {
    return { restocks: store.restocks({ item: 'tips' }), level: store.getItem('tips')!.level };
  } finally {
    store.close();
  }
}

/** Only the orchestration worker (the stockroom workflow runs, the lab worker that owns the lab file does not). */
async function withOrchestrationOnly<T>(q: ReturnType<typeof queues>, body: () => Promise<T>): Promise<T> {
  const worker = await createOrchestrationWorker({
    connection: env.connection,
    namespace: 'default',
    taskQueue: q.orchestrationTaskQueue,
    workflowBundle: env.bundle,
    client: env.client,
    labConfig: builtinLabConfig(),
  });
  return worker.runUntil(body());
}

describe('stockroom calls with the workers down', () => {
  it('a restock no worker took gives up after its wait, names both workers, and its key applies it once when they run', async () => {
    const q = queues();
    const opts = { client: env.client, ...q };
    const key = `test-${randomUUID().slice(0, 8)}`;
    const first = await refusal(restock(opts, { item: 'tips', amount: 10 }, { key, waitMs: 1_000 }));
    expect(first.exitCode).toBe(STOCKROOM_TIMEOUT_EXIT);
    expect(first.message).toMatch(/restock of 10 tips not done within 1 s/);
    expect(first.message).toContain(`"${q.orchestrationTaskQueue}" (start \`npm run worker:orchestration\`)`);
    expect(first.message).toContain(`"${q.labTaskQueue}-inventory" (start \`npm run worker:lab\`)`);
    expect(first.message).toMatch(/the stockroom has not taken the request .*never applied twice/);
    expect(first.message).toContain(`--key ${key}`);
    // The person retries the same call: it joins the first request instead of adding another.
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

  it('a restock the stockroom took while the lab worker is down stays queued and is applied once when it runs', async () => {
    const q = queues();
    const opts = { client: env.client, ...q };
    const key = `test-${randomUUID().slice(0, 8)}`;
    const queued = await withOrchestrationOnly(q, () =>
      refusal(restock(opts, { item: 'tips', amount: 10 }, { key, waitMs: 3_000 })),
    );
    expect(queued.exitCode).toBe(STOCKROOM_TIMEOUT_EXIT);
    expect(queued.message).toMatch(/restock of 10 tips not done within 3 s: no worker polls "[^"]+-inventory"/);
    expect(queued.message).not.toContain(`"${q.orchestrationTaskQueue}"`);
    expect(queued.message).toMatch(
      /queued in the stockroom \(workflow test-stockroom-lab-\w+-stockroom, update restock-test-/,
    );
    await withWorkers(
      env,
      async (lab) => {
        const outcome = (await env.client.workflow
          .getHandle(stockroomWorkflowId(q.labTaskQueue))
          .getUpdateHandle(`restock-${key}`)
          .result()) as { requestId: string };
        expect(outcome.requestId).toBe(key);
        expect(tipsRestocks(lab.labDbPath).restocks.filter((r) => r.reason === 'restock')).toHaveLength(1);
      },
      q,
    );
  }, 90_000);

  it('without a key, a second identical restock while the first is queued is refused instead of doubling', async () => {
    const q = queues();
    const opts = { client: env.client, ...q };
    const [first, second] = await withOrchestrationOnly(q, async () => {
      const one = await refusal(restock(opts, { item: 'tips', amount: 10 }, { waitMs: 2_000 }));
      const started = Date.now();
      const two = await refusal(restock(opts, { item: 'tips', amount: 10 }, { waitMs: 20_000 }));
      expect(Date.now() - started).toBeLessThan(10_000); // refused at once, not after its wait
      return [one, two];
    });
    expect(first.exitCode).toBe(STOCKROOM_TIMEOUT_EXIT);
    expect(first.message).toMatch(/queued in the stockroom/);
    const key = /--key (\S+)`/.exec(first.message)![1]!;
    expect(second.exitCode).toBe(STOCKROOM_TIMEOUT_EXIT);
    expect(second.message).toMatch(/a restock of 10 tips is already queued/);
    expect(second.message).toContain(`(key ${key})`);
    expect(second.message).toContain(`cellos restock tips 10 --key ${key}`);
    await withWorkers(
      env,
      async (lab) => {
        await env.client.workflow
          .getHandle(stockroomWorkflowId(q.labTaskQueue))
          .getUpdateHandle(`restock-${key}`)
          .result();
        const { restocks } = tipsRestocks(lab.labDbPath);
        expect(restocks.filter((r) => r.reason === 'restock').map((r) => r.amount)).toEqual([10]);
      },
      q,
    );
  }, 90_000);

  it('an inventory report gives up after its wait, is withdrawn, and says nothing was done', async () => {
    const q = queues();
    const key = `report-${randomUUID().slice(0, 8)}`;
    const [err, outcome] = await withOrchestrationOnly(q, async () => {
      const refused = await refusal(inventoryReport({ client: env.client, ...q }, undefined, { key, waitMs: 1_500 }));
      // The stockroom gives the report up by itself (its activity's deadline is the caller's): nothing is left to run.
      const update = env.client.workflow
        .getHandle(stockroomWorkflowId(q.labTaskQueue))
        .getUpdateHandle(`report-${key}`)
        .result();
      return [
        refused,
        await update.then(
          () => 'answered',
          (e: unknown) => e,
        ),
      ] as const;
    });
    expect(err.exitCode).toBe(STOCKROOM_TIMEOUT_EXIT);
    expect(err.message).toMatch(/inventory report not done within 1.5 s: no worker polls/);
    expect(err.message).toMatch(/nothing was done/);
    expect(outcome).toBeInstanceOf(WorkflowUpdateFailedError);
    expect(causes(outcome)).toMatch(/timeout/i);
  }, 30_000);

  it('every call goes to one stockroom workflow, which continues as new, and a key still applies once across runs', async () => {
    const q = queues();
    const opts = { client: env.client, ...q };
    const key = `test-${randomUUID().slice(0, 8)}`;
    await withWorkers(
      env,
      async (lab) => {
        const record = await restock(opts, { item: 'tips', amount: 5 }, { key });
        const stockroom = env.client.workflow.getHandle(stockroomWorkflowId(q.labTaskQueue));
        const firstRun = (await stockroom.describe()).runId;
        let calls = 0;
        // Each report adds a few events; the test server suggests continue-as-new after 300.
        while ((await stockroom.describe()).runId === firstRun && calls < 120) {
          await inventoryReport(opts);
          calls++;
        }
        expect((await stockroom.describe()).runId).not.toBe(firstRun);
        const again = await restock(opts, { item: 'tips', amount: 5 }, { key });
        expect(again.restockId).toBe(record.restockId);
        expect(tipsRestocks(lab.labDbPath).restocks.filter((r) => r.reason === 'restock')).toHaveLength(1);
        const ids = new Set<string>();
        for await (const wf of env.client.workflow.list({ query: `TaskQueue = '${q.orchestrationTaskQueue}'` }))
          ids.add(wf.workflowId);
        expect([...ids]).toEqual([stockroomWorkflowId(q.labTaskQueue)]);
      },
      q,
    );
  }, 120_000);

  it('the lab check of cellos start gives up after its wait and names the lab queue', async () => {
    const q = queues();
    const opts = { client: env.client, ...q };
    const down = await refusal(describeLab(opts, 1_000));
    expect(down.message).toMatch(
      new RegExp(
        `^the lab did not describe itself within 1 s: no lab worker answered on "${q.labTaskQueue}-inventory"`,
      ),
    );
    // With the stockroom workflow running but no lab worker, the same.
    const noLab = await withOrchestrationOnly(q, () => refusal(describeLab(opts, 1_500)));
    expect(noLab.message).toMatch(/^the lab did not describe itself within 1.5 s/);
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
