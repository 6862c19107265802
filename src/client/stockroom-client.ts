import { randomUUID } from 'node:crypto';
import { WithStartWorkflowOperation, WorkflowUpdateFailedError, type UpdateDefinition } from '@temporalio/client';
import { inventoryTaskQueue, stockroomDeskWorkflowId, taskQueuesFromEnv } from '../temporal/task-queues';
import type { InventoryReport, RestockRequest } from '../activities/inventory-activities';
import { parseRestockRequest } from '../activities/inventory-activities';
import type { RestockRecord } from '../inventory/inventory-store';
import type { LabCatalogue } from '../domain/lab-catalogue';
import { inventoryReportUpdate, labCatalogueUpdate, restockUpdate } from '../temporal/messages';
import type { stockroomDeskWorkflow } from '../workflows/stockroom-desk';
import { CliError, type CampaignClientOptions } from './campaign-client';

/**
 * `cellos restock`, `cellos inventory` and `start`'s lab check: updates to the lab's stockroom
 * desk (one long-lived workflow per lab, started on first use by update-with-start), which carries
 * each request to the lab workers. One desk per lab keeps these requests out of the workflow list.
 */
async function askDesk<R, A extends unknown[]>(
  opts: CampaignClientOptions,
  update: UpdateDefinition<R, A>,
  args: A,
): Promise<R> {
  const queues = taskQueuesFromEnv();
  const labTaskQueue = opts.labTaskQueue ?? queues.lab;
  const startWorkflowOperation = new WithStartWorkflowOperation<typeof stockroomDeskWorkflow>('stockroomDeskWorkflow', {
    workflowId: stockroomDeskWorkflowId(labTaskQueue),
    taskQueue: opts.orchestrationTaskQueue ?? queues.orchestration,
    args: [{ labTaskQueue }],
    workflowIdConflictPolicy: 'USE_EXISTING',
    staticSummary: `stockroom desk of the lab "${labTaskQueue}": restocks, inventory, catalogue`,
  });
  return opts.client.workflow.executeUpdateWithStart(update, { args, startWorkflowOperation });
}

export async function restock(opts: CampaignClientOptions, request: RestockRequest): Promise<RestockRecord> {
  parseRestockRequest(request); // refuse bad input here, before anything is started
  const requestId = request.requestId ?? randomUUID();
  try {
    return await askDesk(opts, restockUpdate, [{ ...request, requestId }]);
  } catch (err) {
    if (err instanceof WorkflowUpdateFailedError) throw new CliError(`restock refused: ${innermost(err).message}`);
    throw err;
  }
}

export async function inventoryReport(opts: CampaignClientOptions, campaignId?: string): Promise<InventoryReport> {
  return askDesk(opts, inventoryReportUpdate, [campaignId ? { campaignId } : {}]);
}

/** How long `cellos start` waits for the lab to describe itself. */
export const LAB_CHECK_TIMEOUT_MS = 20_000;

/** What the lab publishes (lines, compounds in stock, instruments); refuses clearly when no lab worker answers. */
export async function describeLab(
  opts: CampaignClientOptions,
  timeoutMs = LAB_CHECK_TIMEOUT_MS,
): Promise<LabCatalogue> {
  const labTaskQueue = opts.labTaskQueue ?? taskQueuesFromEnv().lab;
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () =>
        reject(
          new CliError(
            `the lab did not describe itself within ${timeoutMs / 1000} s: no lab worker answered on "${inventoryTaskQueue(labTaskQueue)}" ` +
              '(or no orchestration worker is running). Start them with "npm run worker:lab" and "npm run worker:orchestration", then try again.',
          ),
        ),
      timeoutMs,
    );
  });
  const asked = askDesk(opts, labCatalogueUpdate, [{}]);
  asked.catch(() => undefined); // answered after the timeout: nobody is waiting any more
  try {
    return await Promise.race([asked, timedOut]);
  } catch (err) {
    if (err instanceof WorkflowUpdateFailedError)
      throw new CliError(`the lab could not describe itself: ${innermost(err).message}`);
    throw err;
  } finally {
    clearTimeout(timer);
  }
}

/** The root cause of a failure chain: the activity's own message, not "Activity task failed". */
function innermost(err: Error): Error {
  let e: Error = err;
  while (e.cause instanceof Error) e = e.cause;
  return e;
}
