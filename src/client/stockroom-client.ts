import { randomUUID } from 'node:crypto';
import { WorkflowFailedError } from '@temporalio/client';
import type { InventoryReport, RestockRequest } from '../activities/inventory-activities';
import { parseRestockRequest } from '../activities/inventory-activities';
import type { RestockRecord } from '../inventory/inventory-store';
import { taskQueuesFromEnv } from '../temporal/task-queues';
import type { inventoryReportWorkflow, restockWorkflow } from '../workflows/stockroom';
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

/** The root cause of a failure chain: the activity's own message, not "Activity task failed". */
function innermost(err: Error): Error {
  let e: Error = err;
  while (e.cause instanceof Error) e = e.cause;
  return e;
}
