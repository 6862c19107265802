import { proxyActivities } from '@temporalio/workflow';
import type { InventoryActivities, InventoryReport, RestockRequest } from '../activities/inventory-activities';
import type { LabCatalogue } from '../domain/lab-catalogue';
import type { RestockRecord } from '../inventory/inventory-store';
import { inventoryTaskQueue } from '../temporal/task-queues';

/**
 * Stockroom requests from a person (`cellos restock`, `cellos inventory`). The lab's inventory
 * lives in the lab's file, reachable only by the lab workers; these short workflows carry the
 * request to them through Temporal, so the CLI works from any machine that can reach the cluster.
 * A restock carries a request id, so a retried request restocks once.
 */
export interface StockroomInput {
  labTaskQueue: string;
}

function stockroom(labTaskQueue: string) {
  return proxyActivities<InventoryActivities>({
    taskQueue: inventoryTaskQueue(labTaskQueue),
    startToCloseTimeout: '30 seconds',
    // No lab worker up: the request waits for one rather than failing.
    retry: { initialInterval: '1 second', maximumInterval: '10 seconds', maximumAttempts: 10 },
  });
}

export async function restockWorkflow(input: StockroomInput & { request: RestockRequest }): Promise<RestockRecord> {
  return stockroom(input.labTaskQueue).restock(input.request);
}

export async function inventoryReportWorkflow(
  input: StockroomInput & { campaignId?: string },
): Promise<InventoryReport> {
  return stockroom(input.labTaskQueue).inventoryReport(input.campaignId ? { campaignId: input.campaignId } : {});
}

/** The lab's catalogue, for `cellos start` to check a config against before anything starts. */
export async function labCatalogueWorkflow(input: StockroomInput): Promise<LabCatalogue> {
  return stockroom(input.labTaskQueue).describeLab();
}
