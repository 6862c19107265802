import type Database from 'better-sqlite3';
import type { Step, StepUse } from './consumption';
import type { LedgerEntry } from './ledger';

/**
 * What each operation consumed: one operation row per physical step (keyed by its operation key),
 * one consumption row per item it drew, and the plates opened. All append-only. Every lookup a
 * step makes is served by a primary key or an index (see schema.ts); statements are prepared once.
 */

export interface ConsumeInput {
  /** One key per physical step: consumptionKey(step) in a lab activity. */
  operationKey: string;
  campaignId: string;
  experimentWorkflowId: string;
  use: StepUse;
}

export interface ConsumptionReceipt {
  operationKey: string;
  step: Step;
  /** Everything the step cost, plates counted whole (a seed that opened its plate pays for it). */
  costUsd: number;
  entries: LedgerEntry[];
}

export interface LedgerFilter {
  campaignId?: string;
  experimentWorkflowId?: string;
  operationKey?: string;
}

export interface OperationRow {
  operation_key: string;
  step: Step;
  campaign_id: string;
  experiment_workflow_id: string;
  plate_id: string;
  well: string;
  at: string;
}

export interface OperationRecord {
  operationKey: string;
  step: Step;
  campaignId: string;
  experimentWorkflowId: string;
  plateId: string;
  well: string;
  at: string;
}

export interface ConsumptionLineRecord extends OperationRecord {
  item: string;
  category: LedgerEntry['category'];
  quantity: number;
  unit: string;
  unitCostUsd: number;
  costUsd: number;
  lot: string | null;
}

const FILTERS = ['campaignId', 'experimentWorkflowId', 'operationKey'] as const;
const COLUMN: Record<(typeof FILTERS)[number], string> = {
  campaignId: 'campaign_id',
  experimentWorkflowId: 'experiment_workflow_id',
  operationKey: 'operation_key',
};

export class ConsumptionRecords {
  private readonly operation: Database.Statement;
  private readonly insertOperation: Database.Statement;
  private readonly insertLine: Database.Statement;
  private readonly plate: Database.Statement;
  private readonly insertPlate: Database.Statement;
  /**
   * One statement per combination of filters, so each is a plain equality the planner serves from
   * an index (`(? IS NULL OR col = ?)` cannot use one, and scanned the whole table on every step).
   */
  private readonly ledgerBy = new Map<string, Database.Statement>();

  constructor(private readonly db: Database.Database) {
    this.operation = db.prepare('SELECT * FROM inventory_operations WHERE operation_key = ?');
    this.insertOperation = db.prepare(
      `INSERT INTO inventory_operations (operation_key, step, campaign_id, experiment_workflow_id, plate_id, well, at)
       VALUES (@operationKey, @step, @campaignId, @experimentWorkflowId, @plateId, @well, @at)`,
    );
    this.insertLine = db.prepare(
      `INSERT INTO inventory_consumption (operation_key, item, step, category, campaign_id, experiment_workflow_id,
         plate_id, well, quantity, unit, unit_cost_usd, cost_usd, lot, at)
       VALUES (@operationKey, @item, @step, @category, @campaignId, @experimentWorkflowId, @plateId, @well,
         @quantity, @unit, @unitCostUsd, @costUsd, @lot, @at)`,
    );
    this.plate = db.prepare('SELECT 1 FROM inventory_plates WHERE plate_id = ?');
    this.insertPlate = db.prepare(
      'INSERT INTO inventory_plates (plate_id, item, operation_key, campaign_id, at) VALUES (?, ?, ?, ?, ?)',
    );
  }

  findOperation(operationKey: string): OperationRow | undefined {
    return this.operation.get(operationKey) as OperationRow | undefined;
  }

  recordOperation(op: OperationRecord): void {
    this.insertOperation.run(op);
  }

  recordLine(line: ConsumptionLineRecord): void {
    this.insertLine.run(line);
  }

  plateOpened(plateId: string): boolean {
    return this.plate.get(plateId) !== undefined;
  }

  openPlate(plateId: string, item: string, operationKey: string, campaignId: string, at: string): void {
    this.insertPlate.run(plateId, item, operationKey, campaignId, at);
  }

  /** Ledger rows in the order they were recorded, optionally of one campaign, experiment or operation. */
  ledger(filter: LedgerFilter = {}): LedgerEntry[] {
    const used = FILTERS.filter((f) => filter[f] !== undefined);
    const key = used.join(',');
    let statement = this.ledgerBy.get(key);
    if (!statement) {
      const where = used.map((f) => `${COLUMN[f]} = @${f}`).join(' AND ');
      statement = this.db.prepare(
        `SELECT * FROM inventory_consumption ${where ? `WHERE ${where}` : ''} ORDER BY rowid`,
      );
      this.ledgerBy.set(key, statement);
    }
    const params = Object.fromEntries(used.map((f) => [f, filter[f]]));
    return (statement.all(params) as ConsumptionRow[]).map(toEntry);
  }
}

interface ConsumptionRow extends OperationRow {
  item: string;
  category: LedgerEntry['category'];
  quantity: number;
  unit: string;
  unit_cost_usd: number;
  cost_usd: number;
  lot: string | null;
}

function toEntry(row: ConsumptionRow): LedgerEntry {
  return {
    operationKey: row.operation_key,
    step: row.step,
    item: row.item,
    category: row.category,
    campaignId: row.campaign_id,
    experimentWorkflowId: row.experiment_workflow_id,
    plateId: row.plate_id,
    well: row.well,
    quantity: row.quantity,
    unit: row.unit,
    unitCostUsd: row.unit_cost_usd,
    costUsd: row.cost_usd,
    ...(row.lot !== null && { lot: row.lot }),
    at: row.at,
  };
}
