import { randomUUID } from 'node:crypto';
import { WorkflowFailedError } from '@temporalio/client';
import { inventoryTaskQueue } from '../temporal/task-queues';
import type { InventoryReport, RestockRequest } from '../activities/inventory-activities';
import { parseRestockRequest } from '../activities/inventory-activities';
import type { RestockRecord } from '../inventory/inventory-store';
import { taskQueuesFromEnv } from '../temporal/task-queues';
import type { LabCatalogue } from '../domain/lab-catalogue';
import type { inventoryReportWorkflow, labCatalogueWorkflow, restockWorkflow } from '../workflows/stockroom';
import { CliError, type CampaignClientOptions } from './campaign-client';

/** `cellos restock` and `cellos inventory`: short workflows that reach the lab workers' stockroom. */
export async function restock(opts: CampaignClientOptions, request: RestockRequest): Promise<RestockRecord> {
  parseRestockRequest(request); // refuse bad input here, before anything is started
  const requestId = request.requestId ?? randomUUID();
  const queues = taskQueuesFromEnv();
  try {
    return await opts.client.workflow.execute<typeof restockWorkflow>('restockWorkflow', {
      workflowId: `stockroom-restock-${requestId}`,
      taskQueue: opts.orchestrationTaskQueue ?? queues.orchestration,
      args: [{ labTaskQueue: opts.labTaskQueue ?? queues.lab, request: { ...request, requestId } }],
      staticSummary: `restock ${String(request.amount)} × ${request.item}`,
    });
  } catch (err) {
    if (err instanceof WorkflowFailedError) throw new CliError(`restock refused: ${innermost(err).message}`);
    throw err;
  }
}

export async function inventoryReport(opts: CampaignClientOptions, campaignId?: string): Promise<InventoryReport> {
  const queues = taskQueuesFromEnv();
  return opts.client.workflow.execute<typeof inventoryReportWorkflow>('inventoryReportWorkflow', {
    workflowId: `stockroom-report-${randomUUID()}`,
    taskQueue: opts.orchestrationTaskQueue ?? queues.orchestration,
    args: [{ labTaskQueue: opts.labTaskQueue ?? queues.lab, ...(campaignId ? { campaignId } : {}) }],
    staticSummary: 'inventory report',
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

/** The root cause of a failure chain: the activity's own message, not "Activity task failed". */
function innermost(err: Error): Error {
  let e: Error = err;
  while (e.cause instanceof Error) e = e.cause;
  return e;
}
