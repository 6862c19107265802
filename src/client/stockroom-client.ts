import { randomUUID } from 'node:crypto';
import {
  type Client,
  type WorkflowUpdateHandle,
  WithStartWorkflowOperation,
  WorkflowUpdateFailedError,
} from '@temporalio/client';
import type { UpdateDefinition } from '@temporalio/common';
import proto from '@temporalio/proto';
import type { InventoryReport, RestockRequest } from '../inventory/requests';
import { parseRestockRequest } from '../inventory/requests';
import { RESTOCK_ALREADY_QUEUED, STOCKROOM_REQUEST_WITHDRAWN } from '../domain/failures';
import type { LabCatalogue } from '../domain/lab-catalogue';
import type { RestockRecord } from '../inventory/inventory-store';
import { inventoryReportUpdate, labCatalogueUpdate, restockUpdate } from '../temporal/messages';
import { inventoryTaskQueue, stockroomWorkflowId, taskQueuesFromEnv } from '../temporal/task-queues';
import type { stockroomWorkflow } from '../workflows/stockroom';
import type { QueuedRestock } from '../workflows/stockroom-state';
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
 * `cellos restock`, `cellos inventory` and the lab check of `cellos start`: Workflow Updates to the
 * lab's one long-lived stockroom workflow (`<lab queue>-stockroom`, src/workflows/stockroom.ts),
 * sent with update-with-start so the first call starts it.
 *
 * Every call carries an idempotency key (`--key`, or one the CLI makes up and prints) as its update
 * id: a call repeated with the key joins the first instead of running again, and a restock records
 * the key in the lab file, so however often a call is retried or abandoned and re-sent, it is
 * applied at most once. Every call waits at most `--wait` seconds (default 30); then the CLI says
 * what became of the request, names the workers that must run, and exits non-zero
 * (STOCKROOM_TIMEOUT_EXIT). An update is durable only once the stockroom workflow has accepted it,
 * which needs the orchestration worker: a restock accepted in time stays queued and is applied when
 * the lab worker comes; one never accepted is not promised (the server may still hand it over, or
 * lose it on a restart), and re-running it with the printed key is always safe.
 */

export async function restock(
  opts: CampaignClientOptions,
  request: RestockRequest,
  call: StockroomCallOptions = {},
): Promise<RestockRecord> {
  parseRestockRequest(request); // refuse bad input here, before anything is sent
  const explicit = call.key ?? request.requestId;
  if (explicit !== undefined) checkStockroomKey(explicit);
  const key = explicit ?? randomUUID();
  const retry = `cellos restock ${request.item} ${String(request.amount)} --key ${key}`;
  try {
    return await callStockroom(
      opts,
      restockUpdate,
      { request: { ...request, requestId: key }, keyless: explicit === undefined },
      {
        updateId: `restock-${key}`,
        waitMs: call.waitMs,
        what: `restock of ${String(request.amount)} ${request.item}`,
        queued: true,
        retry,
      },
    );
  } catch (err) {
    if (!(err instanceof WorkflowUpdateFailedError)) throw err;
    const cause = innermost(err);
    // Without a key, a second identical command while the first still waits could add the stock twice.
    if (err.cause instanceof Error && (err.cause as { type?: string }).type === RESTOCK_ALREADY_QUEUED) {
      const queued = ((err.cause as { details?: unknown[] }).details?.[0] ?? {}) as Partial<QueuedRestock>;
      throw new CliError(
        `${cause.message}; wait for it with \`cellos restock ${queued.item ?? request.item} ${String(queued.amount ?? '<amount>')} --key ${queued.key ?? '<key>'}\`, ` +
          'or give a new --key to restock again on top of it',
        STOCKROOM_TIMEOUT_EXIT,
      );
    }
    throw new CliError(`restock refused: ${cause.message}`);
  }
}

export async function inventoryReport(
  opts: CampaignClientOptions,
  campaignId?: string,
  call: StockroomCallOptions = {},
): Promise<InventoryReport> {
  if (call.key !== undefined) checkStockroomKey(call.key);
  const key = call.key ?? randomUUID();
  const waitMs = call.waitMs ?? STOCKROOM_WAIT_MS;
  return callStockroom(
    opts,
    inventoryReportUpdate,
    { ...(campaignId ? { campaignId } : {}), notAfterMs: Date.now() + waitMs },
    {
      updateId: `report-${key}`,
      waitMs,
      what: 'inventory report',
      queued: false,
      retry: `cellos inventory${campaignId ? ` --campaign ${campaignId}` : ''}`,
    },
  ).catch((err: unknown) => {
    if (err instanceof WorkflowUpdateFailedError)
      throw new CliError(`inventory report failed: ${innermost(err).message}`);
    throw err;
  });
}

/** How long `cellos start` waits for the lab to describe itself. */
export const LAB_CHECK_TIMEOUT_MS = 20_000;

/** What the lab publishes (lines, compounds in stock, instruments); refuses clearly when no lab worker answers. */
export async function describeLab(
  opts: CampaignClientOptions,
  timeoutMs = LAB_CHECK_TIMEOUT_MS,
): Promise<LabCatalogue> {
  const labTaskQueue = opts.labTaskQueue ?? taskQueuesFromEnv().lab;
  try {
    return await callStockroom(
      opts,
      labCatalogueUpdate,
      { notAfterMs: Date.now() + timeoutMs },
      { updateId: `catalogue-${randomUUID()}`, waitMs: timeoutMs, what: 'lab catalogue', queued: false, retry: '' },
    );
  } catch (err) {
    const timedOut = err instanceof CliError && err.exitCode === STOCKROOM_TIMEOUT_EXIT;
    const withdrawn =
      err instanceof WorkflowUpdateFailedError &&
      (err.cause as { type?: string } | undefined)?.type === STOCKROOM_REQUEST_WITHDRAWN;
    if (
      timedOut ||
      withdrawn ||
      (err instanceof WorkflowUpdateFailedError && /timed? ?out/i.test(innermost(err).message))
    )
      throw new CliError(
        `the lab did not describe itself within ${timeoutMs / 1000} s: no lab worker answered on "${inventoryTaskQueue(labTaskQueue)}" ` +
          '(or no orchestration worker is running). Start them with "npm run worker:lab" and "npm run worker:orchestration", then try again.',
      );
    if (err instanceof WorkflowUpdateFailedError) throw new CliError(`the lab check failed: ${innermost(err).message}`);
    throw err;
  }
}

interface CallContext {
  /** The update id: derived from the call's idempotency key. */
  updateId: string;
  waitMs?: number;
  what: string;
  /** True: once accepted, the request stays queued after the wait (and is applied once); false: it is withdrawn. */
  queued: boolean;
  retry: string;
}

/**
 * Sends one update to the lab's stockroom workflow (starting it if need be) and waits for its
 * outcome at most `waitMs`. A refused or failed update throws WorkflowUpdateFailedError; a wait
 * that runs out throws CliError(STOCKROOM_TIMEOUT_EXIT) saying what became of the request.
 */
async function callStockroom<Ret, Arg>(
  opts: CampaignClientOptions,
  update: UpdateDefinition<Ret, [Arg]>,
  arg: Arg,
  context: CallContext,
): Promise<Ret> {
  const queues = taskQueuesFromEnv();
  const labTaskQueue = opts.labTaskQueue ?? queues.lab;
  const orchestrationTaskQueue = opts.orchestrationTaskQueue ?? queues.orchestration;
  const waitMs = context.waitMs ?? STOCKROOM_WAIT_MS;
  const workflowId = stockroomWorkflowId(labTaskQueue);
  const startWorkflowOperation = new WithStartWorkflowOperation<typeof stockroomWorkflow>('stockroomWorkflow', {
    workflowId,
    taskQueue: orchestrationTaskQueue,
    args: [{ labTaskQueue }],
    workflowIdConflictPolicy: 'USE_EXISTING',
    staticSummary: `stockroom of ${labTaskQueue}`,
  });
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<'timed out'>((resolve) => {
    timer = setTimeout(() => resolve('timed out'), waitMs);
  });
  const accepted: Promise<WorkflowUpdateHandle<Ret>> = opts.client.workflow.startUpdateWithStart(update, {
    args: [arg],
    updateId: context.updateId,
    waitForStage: 'ACCEPTED',
    startWorkflowOperation,
  });
  let stage: 'sent' | 'accepted' = 'sent';
  try {
    const handle = await Promise.race([accepted, timedOut]);
    if (handle !== 'timed out') {
      stage = 'accepted';
      const result = handle.result();
      const first = await Promise.race([result, timedOut]);
      if (first !== 'timed out') return first;
      result.catch(() => undefined); // abandoned: its long poll ends with the connection
    }
  } finally {
    clearTimeout(timer);
  }
  accepted.catch(() => undefined);
  const missing = await missingWorkers(opts.client, orchestrationTaskQueue, { labTaskQueue });
  const seconds = `${Number((waitMs / 1000).toFixed(3))} s`;
  const workers =
    missing.length > 0
      ? `no worker polls ${missing.map((m) => `"${m.queue}" (start ${m.start})`).join(' or ')}`
      : 'the workers polling its queues did not answer in time';
  const outcome = !context.queued
    ? `nothing was done (the request is withdrawn); run \`${context.retry}\` once the workers run`
    : stage === 'accepted'
      ? `the request is queued in the stockroom (workflow ${workflowId}, update ${context.updateId}) and will be applied once, ` +
        `when the lab worker runs; to wait for it again run \`${context.retry}\` (the same key is never applied twice)`
      : `the stockroom has not taken the request (no orchestration worker accepted it), so it may or may not be applied ` +
        `when the workers start; run \`${context.retry}\` once they run: the same key is never applied twice`;
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

/** The root cause of a failure chain: the activity's own message, not "Activity task failed". */
function innermost(err: Error): Error {
  let e: Error = err;
  while (e.cause instanceof Error) e = e.cause;
  return e;
}
