import { randomUUID } from 'node:crypto';
import { type Client, type WorkflowHandle, WorkflowFailedError } from '@temporalio/client';
import proto from '@temporalio/proto';
import { inventoryTaskQueue } from '../temporal/task-queues';
import type { InventoryReport, RestockRequest } from '../activities/inventory-activities';
import { parseRestockRequest } from '../activities/inventory-activities';
import type { RestockRecord } from '../inventory/inventory-store';
import { taskQueuesFromEnv } from '../temporal/task-queues';
import type { LabCatalogue } from '../domain/lab-catalogue';
import type { inventoryReportWorkflow, labCatalogueWorkflow, restockWorkflow } from '../workflows/stockroom';
import { CliError, type CampaignClientOptions } from './campaign-client';
import {
  checkStockroomKey,
  STOCKROOM_TIMEOUT_EXIT,
  STOCKROOM_WAIT_MS,
  type StockroomCallOptions,
} from './stockroom-call';

export {
  checkStockroomKey,
  STOCKROOM_KEY_PATTERN,
  STOCKROOM_TIMEOUT_EXIT,
  STOCKROOM_WAIT_MS,
  type StockroomCallOptions,
} from './stockroom-call';

/**
 * `cellos restock` and `cellos inventory`: short workflows that reach the lab workers' stockroom.
 *
 * Every call carries an idempotency key (`--key`, or one the CLI makes up and prints): the
 * workflow id is derived from it and an already running call with that id is joined rather than
 * started again, and a restock records the key in the lab file, so however often a call is
 * retried or abandoned and re-sent, it is applied at most once. Every call waits at most `--wait`
 * seconds (default 30); then the CLI says whether the request stays queued (a restock: applied
 * once, when the workers come back) or was withdrawn (a report), names the workers that must run,
 * and exits non-zero (STOCKROOM_TIMEOUT_EXIT).
 */

export async function restock(
  opts: CampaignClientOptions,
  request: RestockRequest,
  call: StockroomCallOptions = {},
): Promise<RestockRecord> {
  parseRestockRequest(request); // refuse bad input here, before anything is started
  const explicit = call.key ?? request.requestId;
  if (explicit !== undefined) checkStockroomKey(explicit);
  // Without a key, a second identical command while the first still waits would add the stock twice.
  const queues = taskQueuesFromEnv();
  if (explicit === undefined)
    await refuseIfQueued(opts, request.item, opts.orchestrationTaskQueue ?? queues.orchestration);
  const key = explicit ?? randomUUID();
  const labTaskQueue = opts.labTaskQueue ?? queues.lab;
  const handle = await opts.client.workflow.start<typeof restockWorkflow>('restockWorkflow', {
    workflowId: `stockroom-restock-${key}`,
    taskQueue: opts.orchestrationTaskQueue ?? queues.orchestration,
    args: [{ labTaskQueue, request: { ...request, requestId: key } }],
    workflowIdConflictPolicy: 'USE_EXISTING',
    memo: { item: request.item, amount: String(request.amount) },
    staticSummary: `restock ${String(request.amount)} × ${request.item}`,
  });
  try {
    return await waitFor(opts, handle, call.waitMs, {
      what: `restock of ${String(request.amount)} ${request.item}`,
      labTaskQueue,
      key,
      queued: true,
      retry: `cellos restock ${request.item} ${String(request.amount)} --key ${key}`,
    });
  } catch (err) {
    if (err instanceof WorkflowFailedError) throw new CliError(`restock refused: ${innermost(err).message}`);
    throw err;
  }
}

export async function inventoryReport(
  opts: CampaignClientOptions,
  campaignId?: string,
  call: StockroomCallOptions = {},
): Promise<InventoryReport> {
  if (call.key !== undefined) checkStockroomKey(call.key);
  const key = call.key ?? randomUUID();
  const queues = taskQueuesFromEnv();
  const labTaskQueue = opts.labTaskQueue ?? queues.lab;
  const handle = await opts.client.workflow.start<typeof inventoryReportWorkflow>('inventoryReportWorkflow', {
    workflowId: `stockroom-report-${key}`,
    taskQueue: opts.orchestrationTaskQueue ?? queues.orchestration,
    args: [{ labTaskQueue, ...(campaignId ? { campaignId } : {}) }],
    workflowIdConflictPolicy: 'USE_EXISTING',
    staticSummary: 'inventory report',
  });
  return waitFor(opts, handle, call.waitMs, {
    what: 'inventory report',
    labTaskQueue,
    key,
    queued: false,
    retry: `cellos inventory${campaignId ? ` --campaign ${campaignId}` : ''}`,
  });
}

/** How long `cellos start` waits for the lab to describe itself. */
export const LAB_CHECK_TIMEOUT_MS = 20_000;

/** What the lab publishes (lines, compounds in stock, instruments); refuses clearly when no lab worker answers. */
export async function describeLab(
  opts: CampaignClientOptions,
  timeoutMs = LAB_CHECK_TIMEOUT_MS,
): Promise<LabCatalogue> {
  const queues = taskQueuesFromEnv();
  const labTaskQueue = opts.labTaskQueue ?? queues.lab;
  try {
    return await opts.client.workflow.execute<typeof labCatalogueWorkflow>('labCatalogueWorkflow', {
      workflowId: `stockroom-catalogue-${randomUUID()}`,
      taskQueue: opts.orchestrationTaskQueue ?? queues.orchestration,
      args: [{ labTaskQueue }],
      workflowExecutionTimeout: timeoutMs,
      staticSummary: 'lab catalogue',
    });
  } catch (err) {
    if (err instanceof WorkflowFailedError)
      throw new CliError(
        `the lab did not describe itself within ${timeoutMs / 1000} s: no lab worker answered on "${inventoryTaskQueue(labTaskQueue)}" ` +
          '(or no orchestration worker is running). Start them with "npm run worker:lab" and "npm run worker:orchestration", then try again.',
      );
    throw err;
  }
}

interface WaitContext {
  what: string;
  labTaskQueue: string;
  key: string;
  /** True: the request stays queued after the wait (and is applied once); false: it is withdrawn. */
  queued: boolean;
  retry: string;
}

async function waitFor<T>(
  opts: CampaignClientOptions,
  handle: WorkflowHandle,
  waitMs: number = STOCKROOM_WAIT_MS,
  context: WaitContext,
): Promise<T> {
  const result = handle.result() as Promise<T>;
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<'timed out'>((resolve) => {
    timer = setTimeout(() => resolve('timed out'), waitMs);
  });
  try {
    const first = await Promise.race([result, timedOut]);
    if (first !== 'timed out') return first;
  } finally {
    clearTimeout(timer);
  }
  result.catch(() => undefined); // abandoned: its long poll ends with the connection
  const missing = await missingWorkers(opts.client, opts.orchestrationTaskQueue ?? taskQueuesFromEnv().orchestration, {
    labTaskQueue: context.labTaskQueue,
  });
  if (!context.queued) await handle.terminate(`not answered within ${waitMs / 1000} s`).catch(() => undefined);
  const seconds = `${Number((waitMs / 1000).toFixed(3))} s`;
  const workers =
    missing.length > 0
      ? `no worker polls ${missing.map((m) => `"${m.queue}" (start ${m.start})`).join(' or ')}`
      : 'the workers polling its queues did not answer in time';
  const outcome = context.queued
    ? `the request is queued as workflow ${handle.workflowId} and will be applied once, when the workers run; ` +
      `to wait for it again run \`${context.retry}\` (the same key is never applied twice)`
    : `nothing was done; run \`${context.retry}\` once the workers run`;
  throw new CliError(`${context.what} not done within ${seconds}: ${workers}. ${outcome}`, STOCKROOM_TIMEOUT_EXIT);
}

/** Queues a stockroom call needs that no worker polls right now, with the command that serves each. */
export async function missingWorkers(
  client: Client,
  orchestrationTaskQueue: string,
  { labTaskQueue }: { labTaskQueue: string },
): Promise<{ queue: string; start: string }[]> {
  const needed = [
    {
      queue: orchestrationTaskQueue,
      type: proto.temporal.api.enums.v1.TaskQueueType.TASK_QUEUE_TYPE_WORKFLOW,
      start: '`npm run worker:orchestration`',
    },
    {
      queue: inventoryTaskQueue(labTaskQueue),
      type: proto.temporal.api.enums.v1.TaskQueueType.TASK_QUEUE_TYPE_ACTIVITY,
      start: '`npm run worker:lab`',
    },
  ];
  const missing: { queue: string; start: string }[] = [];
  for (const n of needed) {
    try {
      const response = await client.workflowService.describeTaskQueue({
        namespace: client.options.namespace,
        taskQueue: { name: n.queue },
        taskQueueType: n.type,
      });
      if ((response.pollers ?? []).length === 0) missing.push({ queue: n.queue, start: n.start });
    } catch {
      missing.push({ queue: n.queue, start: n.start });
    }
  }
  return missing;
}

/** A restock of this item still waiting for the lab (started without a key, so a repeat could double it). */
async function refuseIfQueued(opts: CampaignClientOptions, item: string, taskQueue: string): Promise<void> {
  const query = `WorkflowType = 'restockWorkflow' AND ExecutionStatus = 'Running'`;
  try {
    for await (const wf of opts.client.workflow.list({ query })) {
      const queuedItem = wf.memo?.item;
      if (wf.taskQueue !== taskQueue) continue; // another lab's stockroom
      if (typeof queuedItem === 'string' && queuedItem.toLowerCase() === item.toLowerCase()) {
        const key = wf.workflowId.replace(/^stockroom-restock-/, '');
        throw new CliError(
          `a restock of ${String(wf.memo?.amount ?? '')} ${queuedItem} is already queued (key ${key}) and waits for the lab workers; ` +
            `wait for it with \`cellos restock ${queuedItem} ${String(wf.memo?.amount ?? '<amount>')} --key ${key}\`, ` +
            'or give a new --key to restock again on top of it',
          STOCKROOM_TIMEOUT_EXIT,
        );
      }
    }
  } catch (err) {
    if (err instanceof CliError) throw err;
    // Visibility unavailable: the key still makes each call apply at most once.
  }
}

/** The root cause of a failure chain: the activity's own message, not "Activity task failed". */
function innermost(err: Error): Error {
  let e: Error = err;
  while (e.cause instanceof Error) e = e.cause;
  return e;
}
