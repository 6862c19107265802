import { allHandlersFinished, condition, continueAsNew, setHandler, workflowInfo } from '@temporalio/workflow';
import { inventoryReportUpdate, labCatalogueUpdate, restockUpdate } from '../temporal/messages';
import { stockroom, type StockroomInput } from './stockroom';

/**
 * The lab's stockroom desk: one long-lived workflow per lab (`<lab queue>-stockroom`) that answers
 * `cellos restock`, `cellos inventory` and `start`'s lab check as updates, each carried to the lab
 * workers by an activity. Clients reach it with update-with-start, so it starts on first use; it
 * idles between requests and continues as new after many of them (or when Temporal suggests), so
 * its history stays short. Unlike a workflow per request, it adds one row to the workflow list,
 * not one per request.
 */
export const DESK_REQUESTS_PER_RUN = 500;

export async function stockroomDeskWorkflow(input: StockroomInput): Promise<void> {
  let handled = 0;
  const desk = stockroom(input.labTaskQueue);
  const count = <T>(work: Promise<T>): Promise<T> => {
    handled += 1;
    return work;
  };
  setHandler(restockUpdate, (request) => count(desk.restock(request)));
  setHandler(inventoryReportUpdate, (request) =>
    count(desk.inventoryReport(request?.campaignId ? { campaignId: request.campaignId } : {})),
  );
  setHandler(labCatalogueUpdate, () => count(desk.describeLab()));
  await condition(() => handled >= DESK_REQUESTS_PER_RUN || workflowInfo().continueAsNewSuggested);
  await condition(allHandlersFinished);
  await continueAsNew<typeof stockroomDeskWorkflow>(input);
}
