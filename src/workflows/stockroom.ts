import {
  ApplicationFailure,
  allHandlersFinished,
  condition,
  continueAsNew,
  proxyActivities,
  setHandler,
  workflowInfo,
} from '@temporalio/workflow';
import type { InventoryActivities } from '../activities/inventory-activities';
import { RESTOCK_ALREADY_QUEUED, STOCKROOM_REQUEST_WITHDRAWN } from '../domain/failures';
import {
  inventoryReportUpdate,
  labCatalogueUpdate,
  restockUpdate,
  stockroomQueuedQuery,
  type RestockCall,
} from '../temporal/messages';
import { inventoryTaskQueue } from '../temporal/task-queues';
import { StockroomQueue } from './stockroom-state';

/**
 * The lab's stockroom desk: one long-lived workflow per lab (`<lab queue>-stockroom`) that takes
 * people's stockroom requests (`cellos restock`, `cellos inventory`, the catalogue `cellos start`
 * checks a config against) as Workflow Updates and carries each to the lab workers, which own the
 * lab file, as an activity on the stockroom queue.
 *
 * One entity rather than a workflow per request, so that the workflow list holds campaigns and a
 * few service workflows, not one entry per `cellos inventory`. The client reaches it with
 * update-with-start (started on first use, joined after), and the update id is the call's
 * idempotency key: a retried or abandoned call with the same key joins the first one instead of
 * running again. A restock also records its key in the lab file, so it is applied at most once
 * even across continue-as-new (where Temporal's own de-duplication of update ids ends).
 *
 * Continues as new when Temporal suggests it, once every handler has finished: nothing else needs
 * carrying over, since the only state (the restocks still queued) is empty then.
 */
export interface StockroomInput {
  labTaskQueue: string;
}

/** At least this long for an activity whose caller is about to give up: the request must still get a try. */
const MIN_REQUEST_MS = 1_000;

export async function stockroomWorkflow(input: StockroomInput): Promise<void> {
  const queue = new StockroomQueue();
  const stockroom = (timeout?: { notAfterMs: number }) =>
    proxyActivities<InventoryActivities>({
      taskQueue: inventoryTaskQueue(input.labTaskQueue),
      startToCloseTimeout: '30 seconds',
      // A report or a catalogue nobody waits for any more is not run late; a restock waits for a
      // lab worker as long as it takes (an activity task waits in its queue; only errors retry).
      ...(timeout ? { scheduleToCloseTimeout: Math.max(MIN_REQUEST_MS, timeout.notAfterMs - Date.now()) } : {}),
      retry: { initialInterval: '1 second', maximumInterval: '10 seconds', maximumAttempts: 10 },
    });
  const withdrawnIfLate = ({ notAfterMs }: { notAfterMs: number }) => {
    if (Date.now() > notAfterMs)
      throw ApplicationFailure.nonRetryable(
        'the request reached the stockroom after its caller had stopped waiting; nothing was done',
        STOCKROOM_REQUEST_WITHDRAWN,
      );
  };

  setHandler(
    restockUpdate,
    async ({ request, keyless }: RestockCall) => {
      queue.add({
        key: request.requestId,
        item: request.item,
        amount: String(request.amount),
        keyless: keyless === true,
      });
      try {
        return await stockroom().restock(request);
      } finally {
        queue.done(request.requestId);
      }
    },
    {
      validator: ({ request, keyless }: RestockCall) => {
        const queued = queue.refusal({ key: request.requestId, item: request.item, keyless: keyless === true });
        if (queued)
          throw ApplicationFailure.create({
            message: `a restock of ${queued.amount} ${queued.item} is already queued (key ${queued.key}) and waits for the lab workers`,
            type: RESTOCK_ALREADY_QUEUED,
            nonRetryable: true,
            details: [queued],
          });
      },
    },
  );
  setHandler(
    inventoryReportUpdate,
    async (call) => stockroom(call).inventoryReport(call.campaignId ? { campaignId: call.campaignId } : {}),
    { validator: withdrawnIfLate },
  );
  setHandler(labCatalogueUpdate, async (call) => stockroom(call).describeLab(), { validator: withdrawnIfLate });
  setHandler(stockroomQueuedQuery, () => queue.list());

  await condition(() => workflowInfo().continueAsNewSuggested);
  await condition(allHandlersFinished);
  await continueAsNew<typeof stockroomWorkflow>(input);
}
