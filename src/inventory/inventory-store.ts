import { openLabDatabase } from '../lab/sqlite';
import type Database from 'better-sqlite3';
import { LabFault } from '../lab/driver';
import { isWellName } from '../lab/plate';
import {
  COST_CATEGORIES,
  type ConsumptionLine,
  drawsCompound,
  ITEM_KINDS,
  type ItemDefinition,
  type ItemKind,
  OUT_OF_STOCK,
  MAX_RESTOCK_AMOUNT,
  MAX_STOCK_LEVEL,
  round9,
  type Step,
  STEPS,
  stepConsumption,
  type StepUse,
  UNITS,
} from './consumption';
import { DEFAULT_STOCK } from './default-stock';
import type { LedgerEntry } from './ledger';

export { OUT_OF_STOCK } from './consumption';

/**
 * The lab's stock and what every operation consumed, in the lab's own SQLite file (the one
 * LabStore opens; separate `inventory_*` tables). Worker processes share it as they share the lab
 * store: WAL, a busy timeout, and one IMMEDIATE transaction per consumption, which takes the write
 * lock before reading levels, so two consumers can never both spend the last tip. Consumption is
 * keyed by an operation key (one per experiment step, see consumptionKey() in
 * inventory-activities.ts): a retried or duplicated step finds its first record and draws nothing
 * more. The ledger, the opened-plates list and restocks are append-only; only the current
 * level of an item changes, and it always equals initial stock + restocks − ledger.
 */

export interface InventoryItem {
  item: string;
  kind: ItemKind;
  unit: string;
  level: number;
  /** Lot currently drawn from (the latest restocked). */
  lot?: string;
  /** Compounds only. */
  stockConcentrationMicromolar?: number;
  reorderLevel: number;
  description: string;
  updatedAt: string;
}

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

/** Something a step needs and the lab lacks. */
export interface Shortage {
  item: string;
  /** Absent when the item is not stocked at all (its unit is unknown). */
  unit?: string;
  neededQuantity?: number;
  availableQuantity: number;
  reason: 'not stocked' | 'insufficient';
}

/**
 * A step could not run for lack of stock; nothing was consumed. `instrument` carries the missing
 * item names (comma-separated when several), so the experiment can wait and its campaign name what
 * it waits for exactly as for an offline instrument. Not permanent: a restock clears it.
 */
export class OutOfStockFault extends LabFault {
  constructor(readonly shortages: Shortage[]) {
    super(OUT_OF_STOCK, describeShortages(shortages), false, shortages.map((s) => s.item).join(', '));
    this.name = 'OutOfStockFault';
  }
}

export interface RestockInput {
  item: string;
  amount: number;
  lot?: string;
  /** Compounds: the new lot's concentration. Required to stock a compound the lab does not know yet. */
  stockConcentrationMicromolar?: number;
  /** Makes a repeated request (a retried activity, a re-sent command) restock once. */
  requestId?: string;
}

export interface RestockRecord {
  restockId: number;
  requestId?: string;
  item: string;
  amount: number;
  unit: string;
  lot?: string;
  stockConcentrationMicromolar?: number;
  levelBefore: number;
  levelAfter: number;
  reason: 'initial stock' | 'restock';
  at: string;
}

export interface OpenInventoryOptions {
  /** Items created if absent (existing levels are never touched). Defaults to DEFAULT_STOCK. */
  initialStock?: readonly ItemDefinition[];
}

/** Units counted in whole pieces: a restock of 2.5 plates is a typo. */
const COUNTED_UNITS: readonly string[] = [UNITS.plate, UNITS.tip, UNITS.wellDose];
/** Below this, a level counts as the quantity asked for (float dust from repeated subtraction). */
const EPSILON = 1e-9;

const SCHEMA = `
CREATE TABLE IF NOT EXISTS inventory_items (
  item TEXT PRIMARY KEY,
  kind TEXT NOT NULL CHECK (kind IN (${sqlList(ITEM_KINDS)})),
  unit TEXT NOT NULL,
  level REAL NOT NULL CHECK (level >= 0),
  lot TEXT,
  stock_concentration_micromolar REAL CHECK (stock_concentration_micromolar > 0),
  reorder_level REAL NOT NULL DEFAULT 0 CHECK (reorder_level >= 0),
  description TEXT NOT NULL DEFAULT '',
  updated_at TEXT NOT NULL,
  CHECK ((kind = 'compound') = (stock_concentration_micromolar IS NOT NULL))
);
CREATE TABLE IF NOT EXISTS inventory_operations (
  operation_key TEXT PRIMARY KEY,
  step TEXT NOT NULL CHECK (step IN (${sqlList(STEPS)})),
  campaign_id TEXT NOT NULL, experiment_workflow_id TEXT NOT NULL,
  plate_id TEXT NOT NULL, well TEXT NOT NULL, at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS inventory_consumption (
  operation_key TEXT NOT NULL REFERENCES inventory_operations (operation_key),
  item TEXT NOT NULL,
  step TEXT NOT NULL, category TEXT NOT NULL CHECK (category IN (${sqlList(COST_CATEGORIES)})),
  campaign_id TEXT NOT NULL, experiment_workflow_id TEXT NOT NULL, plate_id TEXT NOT NULL, well TEXT NOT NULL,
  quantity REAL NOT NULL CHECK (quantity >= 0), unit TEXT NOT NULL,
  unit_cost_usd REAL NOT NULL CHECK (unit_cost_usd >= 0), cost_usd REAL NOT NULL CHECK (cost_usd >= 0),
  lot TEXT, at TEXT NOT NULL,
  PRIMARY KEY (operation_key, item)
);
CREATE INDEX IF NOT EXISTS inventory_consumption_by_campaign
  ON inventory_consumption (campaign_id, experiment_workflow_id);
-- A plate is consumed once, by the first seed on it, whichever process gets there first.
CREATE TABLE IF NOT EXISTS inventory_plates (
  plate_id TEXT PRIMARY KEY, item TEXT NOT NULL, operation_key TEXT NOT NULL, campaign_id TEXT NOT NULL,
  at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS inventory_restocks (
  restock_id INTEGER PRIMARY KEY AUTOINCREMENT,
  request_id TEXT UNIQUE,
  item TEXT NOT NULL, amount REAL NOT NULL CHECK (amount > 0), unit TEXT NOT NULL, lot TEXT,
  stock_concentration_micromolar REAL, level_before REAL NOT NULL, level_after REAL NOT NULL,
  reason TEXT NOT NULL CHECK (reason IN ('initial stock', 'restock')), at TEXT NOT NULL
);
${['inventory_operations', 'inventory_consumption', 'inventory_plates', 'inventory_restocks']
  .map(
    (t) => `
CREATE TRIGGER IF NOT EXISTS ${t}_no_update BEFORE UPDATE ON ${t}
  BEGIN SELECT RAISE(ABORT, '${t} is append-only'); END;
CREATE TRIGGER IF NOT EXISTS ${t}_no_delete BEFORE DELETE ON ${t}
  BEGIN SELECT RAISE(ABORT, '${t} is append-only'); END;`,
  )
  .join('')}
`;

export class InventoryStore {
  private constructor(private readonly db: Database.Database) {}

  /**
   * Open (creating if needed, with parent directories) the lab file at `path`, and stock any item
   * of `initialStock` the lab does not have yet. Safe to call from many processes at once.
   */
  static open(path: string, options: OpenInventoryOptions = {}): InventoryStore {
    const db = openLabDatabase(path);
    db.transaction(() => db.exec(SCHEMA)).immediate();
    const store = new InventoryStore(db);
    store.repairLevels();
    store.ensureItems(options.initialStock ?? DEFAULT_STOCK);
    return store;
  }

  close(): void {
    if (this.db.open) this.db.close();
  }

  /**
   * Levels that no restock could have made (infinite, NaN, above MAX_STOCK_LEVEL: a file written
   * before restocks were bounded) are set to 0, so reports can never be poisoned; the item needs
   * a count and a restock. Returns the items repaired.
   */
  repairLevels(): string[] {
    const bad = this.db
      .prepare('SELECT item FROM inventory_items WHERE NOT (level >= 0 AND level <= ?)')
      .all(MAX_STOCK_LEVEL) as { item: string }[];
    if (bad.length > 0)
      this.db
        .prepare('UPDATE inventory_items SET level = 0, updated_at = ? WHERE NOT (level >= 0 AND level <= ?)')
        .run(now(), MAX_STOCK_LEVEL);
    return bad.map((b) => b.item);
  }

  /** Create the items that do not exist yet, at their defined level (recorded as initial stock). */
  ensureItems(items: readonly ItemDefinition[]): void {
    for (const def of items) checkDefinition(def);
    this.db
      .transaction(() => {
        for (const def of items) {
          if (this.getItem(def.item)) continue;
          const at = now();
          this.db
            .prepare(
              `INSERT INTO inventory_items (item, kind, unit, level, lot, stock_concentration_micromolar, reorder_level,
                 description, updated_at)
               VALUES (@item, @kind, @unit, @level, @lot, @conc, @reorderLevel, @description, @at)`,
            )
            .run({
              item: def.item,
              kind: def.kind,
              unit: def.unit,
              level: def.level,
              lot: def.lot ?? null,
              conc: def.stockConcentrationMicromolar ?? null,
              reorderLevel: def.reorderLevel ?? 0,
              description: def.description ?? '',
              at,
            });
          if (def.level > 0)
            this.insertRestock({
              requestId: null,
              item: def.item,
              amount: def.level,
              unit: def.unit,
              lot: def.lot ?? null,
              conc: def.stockConcentrationMicromolar ?? null,
              levelBefore: 0,
              levelAfter: def.level,
              reason: 'initial stock',
              at,
            });
        }
      })
      .immediate();
  }

  getItem(item: string): InventoryItem | undefined {
    const row = this.db.prepare('SELECT * FROM inventory_items WHERE item = ?').get(item) as ItemRow | undefined;
    return row && toItem(row);
  }

  /** Every stocked item, by kind then name. */
  listItems(): InventoryItem[] {
    const rows = this.db.prepare('SELECT * FROM inventory_items').all() as ItemRow[];
    return rows
      .map(toItem)
      .sort((a, b) => ITEM_KINDS.indexOf(a.kind) - ITEM_KINDS.indexOf(b.kind) || a.item.localeCompare(b.item));
  }

  /**
   * Record what a step consumes and draw it from stock, or return the first receipt if this
   * operation key already consumed. All or nothing: when anything is short, nothing is drawn and
   * an OutOfStockFault lists every shortage. A reused key for a different step or well, or a
   * request no lab could carry out, is a permanent 'InvalidOperation' LabFault.
   */
  consume(input: ConsumeInput): ConsumptionReceipt {
    return this.db
      .transaction((): ConsumptionReceipt => {
        const prior = this.db
          .prepare('SELECT * FROM inventory_operations WHERE operation_key = ?')
          .get(input.operationKey) as OperationRow | undefined;
        if (prior) {
          checkSameOperation(prior, input);
          return receipt(input.operationKey, prior.step, this.ledger({ operationKey: input.operationKey }));
        }
        const { lines, shortages } = this.plan(input.use);
        if (shortages.length > 0) throw new OutOfStockFault(shortages);
        const at = now();
        const { use } = input;
        const row = {
          operationKey: input.operationKey,
          step: use.step,
          campaignId: input.campaignId,
          experimentWorkflowId: input.experimentWorkflowId,
          plateId: use.location.plateId,
          well: use.location.well,
          at,
        };
        this.db
          .prepare(
            `INSERT INTO inventory_operations (operation_key, step, campaign_id, experiment_workflow_id, plate_id, well,
               at) VALUES (@operationKey, @step, @campaignId, @experimentWorkflowId, @plateId, @well, @at)`,
          )
          .run(row);
        for (const line of lines) {
          const item = line.stocked ? this.getItem(line.item) : undefined;
          if (item) {
            this.db
              .prepare('UPDATE inventory_items SET level = ?, updated_at = ? WHERE item = ?')
              .run(Math.max(0, round9(item.level - line.quantity)), at, item.item);
          }
          if (line.onceForPlate !== undefined)
            this.db
              .prepare(
                `INSERT INTO inventory_plates (plate_id, item, operation_key, campaign_id, at)
                 VALUES (?, ?, ?, ?, ?)`,
              )
              .run(line.onceForPlate, line.item, input.operationKey, input.campaignId, at);
          this.db
            .prepare(
              `INSERT INTO inventory_consumption (operation_key, item, step, category, campaign_id,
                 experiment_workflow_id, plate_id, well, quantity, unit, unit_cost_usd, cost_usd, lot, at)
               VALUES (@operationKey, @item, @step, @category, @campaignId, @experimentWorkflowId, @plateId, @well,
                 @quantity, @unit, @unitCostUsd, @costUsd, @lot, @at)`,
            )
            .run({
              ...row,
              item: line.item,
              category: line.category,
              quantity: line.quantity,
              unit: line.unit,
              unitCostUsd: line.unitCostUsd,
              costUsd: line.quantity * line.unitCostUsd,
              lot: item?.lot ?? null,
            });
        }
        return receipt(input.operationKey, use.step, this.ledger({ operationKey: input.operationKey }));
      })
      .immediate();
  }

  /** What a step would lack right now (empty when it could run). Draws nothing. */
  shortagesFor(use: StepUse): Shortage[] {
    return this.plan(use).shortages;
  }

  /**
   * Add `amount` (in the item's unit) to an item; an unknown item with a stock concentration is a
   * new compound. Throws a RangeError naming the problem for an unknown item (listing the known
   * ones), a fractional count of plates, tips or wells, or a compound lot whose concentration
   * differs from the stock still on the shelf (two strengths cannot share one level).
   */
  restock(input: RestockInput): RestockRecord {
    return this.db
      .transaction((): RestockRecord => {
        if (input.requestId !== undefined) {
          const prior = this.db
            .prepare('SELECT * FROM inventory_restocks WHERE request_id = ?')
            .get(input.requestId) as RestockRow | undefined;
          if (prior) {
            if (prior.item.toLowerCase() !== input.item.toLowerCase())
              throw new RangeError(`restock request "${input.requestId}" was already used for ${prior.item}`);
            return toRestock(prior);
          }
        }
        if (!Number.isFinite(input.amount) || input.amount <= 0 || input.amount > MAX_RESTOCK_AMOUNT)
          throw new RangeError(`amount must be a positive number up to ${MAX_RESTOCK_AMOUNT} (got ${input.amount})`);
        const conc = input.stockConcentrationMicromolar;
        const at = now();
        let item = this.resolveItem(input.item);
        if (!item) {
          if (conc === undefined)
            throw new RangeError(
              `unknown item "${input.item}": known items are ${this.listItems()
                .map((i) => i.item)
                .join(', ')} (to stock a new compound, give its stockConcentrationMicromolar)`,
            );
          this.ensureItems([
            {
              item: input.item,
              kind: 'compound',
              unit: UNITS.microlitre,
              level: 0,
              stockConcentrationMicromolar: conc,
            },
          ]);
          item = this.getItem(input.item) as InventoryItem;
        }
        if (COUNTED_UNITS.includes(item.unit) && !Number.isInteger(input.amount))
          throw new RangeError(`amount of ${item.item} must be a whole number of ${item.unit}s (got ${input.amount})`);
        if (conc !== undefined) {
          if (item.kind !== 'compound')
            throw new RangeError(
              `stockConcentrationMicromolar applies to compounds only; ${item.item} is ${item.kind}`,
            );
          if (conc !== item.stockConcentrationMicromolar && item.level > EPSILON)
            throw new RangeError(
              `${item.item} is stocked at ${item.stockConcentrationMicromolar} µM with ${item.level} µL left; ` +
                `a ${conc} µM lot cannot share its level: use it up first, or dilute the new lot to ` +
                `${item.stockConcentrationMicromolar} µM`,
            );
        }
        const levelAfter = round9(item.level + input.amount);
        if (levelAfter > MAX_STOCK_LEVEL)
          throw new RangeError(
            `${item.item} would hold ${levelAfter} ${item.unit}, above the most any item may hold (${MAX_STOCK_LEVEL}); allowed: at most ${round9(MAX_STOCK_LEVEL - item.level)} more`,
          );
        this.db
          .prepare(
            `UPDATE inventory_items SET level = ?, lot = coalesce(?, lot),
               stock_concentration_micromolar = coalesce(?, stock_concentration_micromolar), updated_at = ?
             WHERE item = ?`,
          )
          .run(levelAfter, input.lot ?? null, item.kind === 'compound' ? (conc ?? null) : null, at, item.item);
        const restockId = this.insertRestock({
          requestId: input.requestId ?? null,
          item: item.item,
          amount: input.amount,
          unit: item.unit,
          lot: input.lot ?? item.lot ?? null,
          conc: conc ?? item.stockConcentrationMicromolar ?? null,
          levelBefore: item.level,
          levelAfter,
          reason: 'restock',
          at,
        });
        const row = this.db
          .prepare('SELECT * FROM inventory_restocks WHERE restock_id = ?')
          .get(restockId) as RestockRow;
        return toRestock(row);
      })
      .immediate();
  }

  /** Ledger rows in the order they were recorded, optionally of one campaign, experiment or operation. */
  ledger(filter: { campaignId?: string; experimentWorkflowId?: string; operationKey?: string } = {}): LedgerEntry[] {
    const rows = this.db
      .prepare(
        `SELECT * FROM inventory_consumption
         WHERE (@campaignId IS NULL OR campaign_id = @campaignId)
           AND (@experimentWorkflowId IS NULL OR experiment_workflow_id = @experimentWorkflowId)
           AND (@operationKey IS NULL OR operation_key = @operationKey)
         ORDER BY rowid`,
      )
      .all({
        campaignId: filter.campaignId ?? null,
        experimentWorkflowId: filter.experimentWorkflowId ?? null,
        operationKey: filter.operationKey ?? null,
      }) as ConsumptionRow[];
    return rows.map(toEntry);
  }

  /** Restocks (initial stock included), oldest first, optionally of one item. */
  restocks(filter: { item?: string } = {}): RestockRecord[] {
    const rows = this.db
      .prepare('SELECT * FROM inventory_restocks WHERE (@item IS NULL OR item = @item) ORDER BY restock_id')
      .all({ item: filter.item ?? null }) as RestockRow[];
    return rows.map(toRestock);
  }

  /** Exact name, or the one item whose name matches ignoring case ("dmso" → "DMSO"). */
  resolveItem(name: string): InventoryItem | undefined {
    const exact = this.getItem(name);
    if (exact) return exact;
    const matches = this.listItems().filter((i) => i.item.toLowerCase() === name.toLowerCase());
    return matches.length === 1 ? matches[0] : undefined;
  }

  /** The lines a step consumes now (a plate already opened is not consumed again) and what is short. */
  private plan(use: StepUse): { lines: ConsumptionLine[]; shortages: Shortage[] } {
    if (use.location.plateId.trim() === '') invalid('plateId is empty: every well must belong to a named plate');
    if (!isWellName(use.location.well))
      invalid(`unknown well "${use.location.well}" on plate ${use.location.plateId}: expected A1..H12`);
    const shortages: Shortage[] = [];
    let concentration: number | undefined;
    if (drawsCompound(use)) {
      const compound = this.getItem(use.compound);
      if (compound?.kind === 'compound') concentration = compound.stockConcentrationMicromolar;
      else shortages.push({ item: use.compound, availableQuantity: 0, reason: 'not stocked' });
    }
    let lines: ConsumptionLine[];
    try {
      // An unstocked compound has no concentration: check the rest of the step as if it were a vehicle.
      const checked: StepUse =
        drawsCompound(use) && shortages.length > 0 ? { ...use, compound: '', doseMicromolar: 0 } : use;
      lines = stepConsumption(checked, concentration);
    } catch (err) {
      if (err instanceof RangeError) invalid(err.message);
      throw err;
    }
    lines = lines.filter(
      (line) =>
        line.onceForPlate === undefined ||
        !this.db.prepare('SELECT 1 FROM inventory_plates WHERE plate_id = ?').get(line.onceForPlate),
    );
    for (const line of lines) {
      if (!line.stocked) continue;
      const item = this.getItem(line.item);
      if (!item) {
        shortages.push({ item: line.item, availableQuantity: 0, reason: 'not stocked' });
        continue;
      }
      if (item.unit !== line.unit)
        invalid(`${item.item} is stocked in ${item.unit} but a ${use.step} draws it in ${line.unit}`);
      if (line.quantity > item.level + EPSILON)
        shortages.push({
          item: item.item,
          unit: item.unit,
          neededQuantity: line.quantity,
          availableQuantity: item.level,
          reason: 'insufficient',
        });
    }
    return { lines, shortages };
  }

  private insertRestock(row: {
    requestId: string | null;
    item: string;
    amount: number;
    unit: string;
    lot: string | null;
    conc: number | null;
    levelBefore: number;
    levelAfter: number;
    reason: RestockRecord['reason'];
    at: string;
  }): number {
    const result = this.db
      .prepare(
        `INSERT INTO inventory_restocks (request_id, item, amount, unit, lot, stock_concentration_micromolar,
           level_before, level_after, reason, at)
         VALUES (@requestId, @item, @amount, @unit, @lot, @conc, @levelBefore, @levelAfter, @reason, @at)`,
      )
      .run(row);
    return Number(result.lastInsertRowid);
  }
}

/** "out of stock: tips (need 1 tip, have 0 tip); the step waits for `cellos restock tips <amount>`". */
export function describeShortages(shortages: readonly Shortage[]): string {
  const parts = shortages.map((s) =>
    s.reason === 'not stocked'
      ? `${s.item} (not stocked: restock it with its stock concentration)`
      : `${s.item} (need ${s.neededQuantity} ${s.unit}, have ${s.availableQuantity} ${s.unit})`,
  );
  const commands = shortages.map((s) => `\`cellos restock ${s.item} <amount>\``).join(' and ');
  return `out of stock: ${parts.join('; ')}; the step waits for ${commands}`;
}

interface ItemRow {
  item: string;
  kind: ItemKind;
  unit: string;
  level: number;
  lot: string | null;
  stock_concentration_micromolar: number | null;
  reorder_level: number;
  description: string;
  updated_at: string;
}

interface OperationRow {
  operation_key: string;
  step: Step;
  campaign_id: string;
  experiment_workflow_id: string;
  plate_id: string;
  well: string;
  at: string;
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

interface RestockRow {
  restock_id: number;
  request_id: string | null;
  item: string;
  amount: number;
  unit: string;
  lot: string | null;
  stock_concentration_micromolar: number | null;
  level_before: number;
  level_after: number;
  reason: RestockRecord['reason'];
  at: string;
}

function toItem(row: ItemRow): InventoryItem {
  return {
    item: row.item,
    kind: row.kind,
    unit: row.unit,
    level: row.level,
    ...(row.lot !== null && { lot: row.lot }),
    ...(row.stock_concentration_micromolar !== null && {
      stockConcentrationMicromolar: row.stock_concentration_micromolar,
    }),
    reorderLevel: row.reorder_level,
    description: row.description,
    updatedAt: row.updated_at,
  };
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

function toRestock(row: RestockRow): RestockRecord {
  return {
    restockId: row.restock_id,
    ...(row.request_id !== null && { requestId: row.request_id }),
    item: row.item,
    amount: row.amount,
    unit: row.unit,
    ...(row.lot !== null && { lot: row.lot }),
    ...(row.stock_concentration_micromolar !== null && {
      stockConcentrationMicromolar: row.stock_concentration_micromolar,
    }),
    levelBefore: row.level_before,
    levelAfter: row.level_after,
    reason: row.reason,
    at: row.at,
  };
}

function receipt(operationKey: string, step: Step, entries: LedgerEntry[]): ConsumptionReceipt {
  const costUsd = Math.round(entries.reduce((s, e) => s + e.costUsd, 0) * 1e6) / 1e6;
  return { operationKey, step, costUsd, entries };
}

function checkSameOperation(prior: OperationRow, input: ConsumeInput): void {
  const { use } = input;
  if (
    prior.step !== use.step ||
    prior.plate_id !== use.location.plateId ||
    prior.well !== use.location.well ||
    prior.campaign_id !== input.campaignId ||
    prior.experiment_workflow_id !== input.experimentWorkflowId
  )
    invalid(
      `operation key "${input.operationKey}" already consumed for a ${prior.step} of ${prior.plate_id}/${prior.well} ` +
        `(experiment ${prior.experiment_workflow_id}); refusing to reuse it for a ${use.step} of ` +
        `${use.location.plateId}/${use.location.well} (experiment ${input.experimentWorkflowId})`,
    );
}

function checkDefinition(def: ItemDefinition): void {
  const where = `item "${def.item}"`;
  if (def.item.trim() === '') throw new RangeError('an item needs a name');
  if (!ITEM_KINDS.includes(def.kind))
    throw new RangeError(`${where}: kind must be one of ${ITEM_KINDS.join(', ')} (got ${String(def.kind)})`);
  if (!Number.isFinite(def.level) || def.level < 0)
    throw new RangeError(`${where}: level must be a non-negative number (got ${def.level})`);
  if ((def.kind === 'compound') !== (def.stockConcentrationMicromolar !== undefined))
    throw new RangeError(`${where}: a stock concentration is required for compounds and only for compounds`);
  if (def.stockConcentrationMicromolar !== undefined && !(def.stockConcentrationMicromolar > 0))
    throw new RangeError(`${where}: stockConcentrationMicromolar must be positive`);
}

function invalid(message: string): never {
  throw new LabFault('InvalidOperation', message, true);
}

function sqlList(values: readonly string[]): string {
  return values.map((v) => `'${v.replace(/'/g, "''")}'`).join(', ');
}

function now(): string {
  return new Date().toISOString();
}
