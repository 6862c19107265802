import { activityInfo } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import { type InventoryReport, parseRestockRequest, type RestockRequest } from '../inventory/requests';
import { ConfigError } from '../config/validation';
import type { ConsumeInput, ConsumptionReceipt, InventoryStore, RestockRecord } from '../inventory/inventory-store';
import type { Step } from '../inventory/consumption';
import type { LabCatalogue } from '../domain/lab-catalogue';
import { campaignCosts, totalCost } from '../inventory/ledger';

/**
 * Inventory activities: draw what a lab step consumes, restock, and report levels and spending.
 *
 * `consumeForStep` is meant to run inside the lab activities, just before the driver acts and
 * under the same operation key: one transaction, all or nothing, once per key however often the
 * step is retried, and never below zero. A shortage throws an OutOfStockFault (a LabFault of type
 * OUT_OF_STOCK naming the missing items in `instrument`) and draws nothing, so the experiment
 * can wait for a restock exactly as it waits for an offline instrument.
 */
export type ConsumeForStepInput = ConsumeInput;

/**
 * `<workflowId>/<runId>/consume:<step>`, for use inside a lab activity: one key per physical step
 * of one experiment run. Unlike the per-activity lab operation key it survives the experiment
 * starting a NEW activity for the same step after waiting out an offline instrument or a
 * shortage, so a step whose consumption was recorded before the instrument refused is never
 * charged twice.
 */
export function consumptionKey(step: Step): string {
  const execution = activityInfo().workflowExecution;
  if (!execution)
    throw ApplicationFailure.nonRetryable('consumption must be recorded from a workflow activity', 'InvalidOperation');
  return `${execution.workflowId}/${execution.runId}/consume:${step}`;
}

/** Failure type of a restock request that can never succeed as sent (bad field, unknown item). */
export { INVALID_RESTOCK } from '../domain/failures';
import { INVALID_RESTOCK } from '../domain/failures';

export interface InventoryReportInput {
  /** Only this campaign's usage (levels are always the whole lab's). */
  campaignId?: string;
}

export interface StockroomDependencies {
  /** What the lab publishes about itself (lines, compounds in stock, instruments, prices). */
  describe: () => LabCatalogue;
}

export function createInventoryActivities(store: InventoryStore, lab?: StockroomDependencies) {
  return {
    /**
     * The lab's catalogue, for `cellos start` (checked before anything starts) and for a campaign's
     * budget (prices). An activity on the stockroom queue, because what a lab can do lives with the
     * lab worker (its profile, its file) on the lab's host: an activity reaches it wherever it
     * runs, while a lab-service workflow would have to copy the lab's world into its history.
     */
    async describeLab(): Promise<LabCatalogue> {
      if (!lab) throw ApplicationFailure.nonRetryable('this worker does not describe its lab', 'InvalidOperation');
      return lab.describe();
    },

    /**
     * Draw what one lab step consumes, once per operation key. Throws OutOfStockFault (type
     * OUT_OF_STOCK, not permanent) when anything is short, having drawn nothing; a permanent
     * 'InvalidOperation' LabFault for a reused key or an impossible request.
     */
    async consumeForStep(input: ConsumeForStepInput): Promise<ConsumptionReceipt> {
      return store.consume(input);
    },

    /**
     * Add stock. Validated before anything changes; a request that can never succeed (bad field,
     * unknown item, fractional plates) fails with a non-retryable INVALID_RESTOCK failure whose
     * message says what is allowed. A repeated `requestId` restocks once.
     */
    async restock(input: RestockRequest): Promise<RestockRecord> {
      try {
        return store.restock(parseRestockRequest(input));
      } catch (err) {
        if (err instanceof ConfigError || err instanceof RangeError)
          throw ApplicationFailure.nonRetryable(err.message, INVALID_RESTOCK);
        throw err;
      }
    },

    /** Levels of every item (flagged when low) and what each campaign has used and spent. */
    async inventoryReport(input: InventoryReportInput = {}): Promise<InventoryReport> {
      const entries = store.ledger(input.campaignId === undefined ? {} : { campaignId: input.campaignId });
      return {
        generatedAt: new Date().toISOString(),
        items: store.listItems().map((item) => ({ ...item, low: item.level <= item.reorderLevel })),
        campaigns: campaignCosts(entries),
        totalUsd: totalCost(entries).totalUsd,
      };
    },
  };
}

export type InventoryActivities = ReturnType<typeof createInventoryActivities>;
