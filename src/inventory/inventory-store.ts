import { openLabDatabase } from '../lab/sqlite';
import type Database from 'better-sqlite3';
import { DEFAULT_INSTRUMENT_TIMINGS, type InstrumentTimings } from '../domain/costs';
import { LabFault } from '../lab/driver';
import { isWellName } from '../lab/plate';
import {
  type ConsumptionLine,
  drawsCompound,
  type ItemDefinition,
  MAX_RESTOCK_AMOUNT,
  MAX_STOCK_LEVEL,
  round9,
  stepConsumption,
  type StepUse,
  UNITS,
} from './consumption';
import {
  type ConsumeInput,
  type ConsumptionReceipt,
  ConsumptionRecords,
  type LedgerFilter,
  type OperationRow,
} from './consumption-records';
import { DEFAULT_STOCK } from './default-stock';
import type { LedgerEntry } from './ledger';
import { type RestockInput, RestockLog, type RestockRecord } from './restocks';
import { migrateInventory } from './schema';
import { checkDefinition, type InventoryItem, OutOfStockFault, type Shortage, StockLevels } from './stock-levels';

export { OUT_OF_STOCK } from './consumption';
export type { ConsumeInput, ConsumptionReceipt, LedgerFilter } from './consumption-records';
export type { RestockInput, RestockRecord } from './restocks';
export { describeShortages, type InventoryItem, OutOfStockFault, type Shortage } from './stock-levels';

/**
 * The lab's stock and what every operation consumed, in the lab's own SQLite file (the one
 * LabStore opens; separate `inventory_*` tables, see schema.ts). Worker processes share it as they
 * share the lab store: WAL, a busy timeout, and one IMMEDIATE transaction per physical step, which
 * takes the write lock before reading levels, so two consumers can never both spend the last tip.
 * Consumption is keyed by an operation key (one per experiment step, see consumptionKey() in
 * inventory-activities.ts): a retried or duplicated step finds its first record and draws nothing
 * more. The ledger, the opened-plates list and restocks are append-only; only the current
 * level of an item changes, and it always equals initial stock + restocks − ledger.
 *
 * This class is the transaction boundary; the concepts live beside it: stock levels
 * (stock-levels.ts), consumption records (consumption-records.ts), restocks (restocks.ts) and the
 * schema with its migrations (schema.ts). Statements are prepared once, when the store opens.
 */

export interface OpenInventoryOptions {
  /** Items created if absent (existing levels are never touched). Defaults to DEFAULT_STOCK. */
  initialStock?: readonly ItemDefinition[];
  /** Seconds per operation that instrument time is charged at: the lab config's (instrumentTimings()). */
  instrumentTimings?: InstrumentTimings;
}

/** Units counted in whole pieces: a restock of 2.5 plates is a typo. */
const COUNTED_UNITS: readonly string[] = [UNITS.plate, UNITS.tip, UNITS.wellDose];
/** Below this, a level counts as the quantity asked for (float dust from repeated subtraction). */
const EPSILON = 1e-9;

export class InventoryStore {
  private readonly levels: StockLevels;
  private readonly records: ConsumptionRecords;
  private readonly restockLog: RestockLog;

  private constructor(
    private readonly db: Database.Database,
    private readonly timings: InstrumentTimings,
  ) {
    this.levels = new StockLevels(db);
    this.records = new ConsumptionRecords(db);
    this.restockLog = new RestockLog(db);
  }

  /**
   * Open (creating if needed, with parent directories) the lab file at `path`, and stock any item
   * of `initialStock` the lab does not have yet. Safe to call from many processes at once.
   */
  static open(path: string, options: OpenInventoryOptions = {}): InventoryStore {
    const db = openLabDatabase(path);
    db.transaction(() => migrateInventory(db)).immediate();
    const store = new InventoryStore(db, options.instrumentTimings ?? DEFAULT_INSTRUMENT_TIMINGS);
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
    return this.db.transaction(() => this.levels.repair(now())).immediate();
  }

  /** Create the items that do not exist yet, at their defined level (recorded as initial stock). */
  ensureItems(items: readonly ItemDefinition[]): void {
    for (const def of items) checkDefinition(def);
    this.db.transaction(() => this.insertMissing(items)).immediate();
  }

  getItem(item: string): InventoryItem | undefined {
    return this.levels.get(item);
  }

  /** Every stocked item, by kind then name. */
  listItems(): InventoryItem[] {
    return this.levels.list();
  }

  /** Exact name, or the one item whose name matches ignoring case ("dmso" → "DMSO"). */
  resolveItem(name: string): InventoryItem | undefined {
    return this.levels.resolve(name);
  }

  /**
   * Record what a step consumes and draw it from stock, or return the first receipt if this
   * operation key already consumed. All or nothing, in one transaction: when anything is short,
   * nothing is drawn and an OutOfStockFault lists every shortage. A reused key for a different step
   * or well, or a request no lab could carry out, is a permanent 'InvalidOperation' LabFault.
   */
  consume(input: ConsumeInput): ConsumptionReceipt {
    const [outcome] = this.consumeAll([input]);
    if (outcome instanceof LabFault) throw outcome;
    return outcome!;
  }

  /**
   * A plate step's draws, one per well, in one transaction: each well gets its receipt (the first
   * one again for a key that already consumed), or the permanent LabFault that refuses it, while
   * the others go ahead. When anything is short, nothing of the whole step is drawn and the
   * OutOfStockFault is thrown: the step waits for stock as one, never half drawn.
   */
  consumeAll(inputs: readonly ConsumeInput[]): (ConsumptionReceipt | LabFault)[] {
    return this.db
      .transaction(() =>
        inputs.map((input) => {
          try {
            return this.consumeInTransaction(input);
          } catch (err) {
            // Refusals are decided before anything is written, so a refused well leaves no trace.
            if (err instanceof LabFault && err.permanent && !(err instanceof OutOfStockFault)) return err;
            throw err;
          }
        }),
      )
      .immediate();
  }

  private consumeInTransaction(input: ConsumeInput): ConsumptionReceipt {
    const prior = this.records.findOperation(input.operationKey);
    if (prior) {
      checkSameOperation(prior, input);
      return receipt(input.operationKey, prior.step, this.records.ledger({ operationKey: input.operationKey }));
    }
    const { lines, shortages } = this.plan(input.use);
    if (shortages.length > 0) throw new OutOfStockFault(shortages);
    const at = now();
    const { use } = input;
    const op = {
      operationKey: input.operationKey,
      step: use.step,
      campaignId: input.campaignId,
      experimentWorkflowId: input.experimentWorkflowId,
      plateId: use.location.plateId,
      well: use.location.well,
      at,
    };
    this.records.recordOperation(op);
    const entries: LedgerEntry[] = [];
    for (const line of lines) {
      const item = line.stocked ? this.levels.get(line.item) : undefined;
      if (item) this.levels.setLevel(item.item, Math.max(0, round9(item.level - line.quantity)), at);
      if (line.onceForPlate !== undefined)
        this.records.openPlate(line.onceForPlate, line.item, input.operationKey, input.campaignId, at);
      const costUsd = line.quantity * line.unitCostUsd;
      const lot = item?.lot ?? null;
      this.records.recordLine({ ...op, ...pick(line), costUsd, lot });
      entries.push({ ...op, ...pick(line), costUsd, ...(lot !== null && { lot }) });
    }
    return receipt(input.operationKey, use.step, entries);
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
          const prior = this.restockLog.findRequest(input.requestId);
          if (prior) {
            if (prior.item.toLowerCase() !== input.item.toLowerCase())
              throw new RangeError(`restock request "${input.requestId}" was already used for ${prior.item}`);
            return prior;
          }
        }
        if (!Number.isFinite(input.amount) || input.amount <= 0 || input.amount > MAX_RESTOCK_AMOUNT)
          throw new RangeError(`amount must be a positive number up to ${MAX_RESTOCK_AMOUNT} (got ${input.amount})`);
        const conc = input.stockConcentrationMicromolar;
        const at = now();
        let item = this.levels.resolve(input.item);
        if (!item) {
          if (conc === undefined)
            throw new RangeError(
              `unknown item "${input.item}": known items are ${this.levels
                .list()
                .map((i) => i.item)
                .join(', ')} (to stock a new compound, give its stockConcentrationMicromolar)`,
            );
          const def: ItemDefinition = {
            item: input.item,
            kind: 'compound',
            unit: UNITS.microlitre,
            level: 0,
            stockConcentrationMicromolar: conc,
          };
          checkDefinition(def);
          this.insertMissing([def]);
          item = this.levels.get(input.item) as InventoryItem;
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
        this.levels.restocked(
          item.item,
          levelAfter,
          input.lot ?? null,
          item.kind === 'compound' ? (conc ?? null) : null,
          at,
        );
        return this.restockLog.record({
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
      })
      .immediate();
  }

  /** Ledger rows in the order they were recorded, optionally of one campaign, experiment or operation. */
  ledger(filter: LedgerFilter = {}): LedgerEntry[] {
    return this.records.ledger(filter);
  }

  /** Restocks (initial stock included), oldest first, optionally of one item. */
  restocks(filter: { item?: string } = {}): RestockRecord[] {
    return this.restockLog.list(filter);
  }

  /** Inside the caller's transaction: items of `items` the lab lacks, created and recorded as initial stock. */
  private insertMissing(items: readonly ItemDefinition[]): void {
    for (const def of items) {
      if (this.levels.get(def.item)) continue;
      const at = now();
      this.levels.insert(def, at);
      if (def.level > 0)
        this.restockLog.record({
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
  }

  /** The lines a step consumes now (a plate already opened is not consumed again) and what is short. */
  private plan(use: StepUse): { lines: ConsumptionLine[]; shortages: Shortage[] } {
    if (use.location.plateId.trim() === '') invalid('plateId is empty: every well must belong to a named plate');
    if (!isWellName(use.location.well))
      invalid(`unknown well "${use.location.well}" on plate ${use.location.plateId}: expected A1..H12`);
    const shortages: Shortage[] = [];
    let concentration: number | undefined;
    if (drawsCompound(use)) {
      const compound = this.levels.get(use.compound);
      if (compound?.kind === 'compound') concentration = compound.stockConcentrationMicromolar;
      else shortages.push({ item: use.compound, availableQuantity: 0, reason: 'not stocked' });
    }
    let lines: ConsumptionLine[];
    try {
      // An unstocked compound has no concentration: check the rest of the step as if it were a vehicle.
      const checked: StepUse =
        drawsCompound(use) && shortages.length > 0 ? { ...use, compound: '', doseMicromolar: 0 } : use;
      lines = stepConsumption(checked, concentration, this.timings);
    } catch (err) {
      if (err instanceof RangeError) invalid(err.message);
      throw err;
    }
    lines = lines.filter((line) => line.onceForPlate === undefined || !this.records.plateOpened(line.onceForPlate));
    for (const line of lines) {
      if (!line.stocked) continue;
      const item = this.levels.get(line.item);
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
}

function pick(line: ConsumptionLine) {
  return {
    item: line.item,
    category: line.category,
    quantity: line.quantity,
    unit: line.unit,
    unitCostUsd: line.unitCostUsd,
  };
}

function receipt(operationKey: string, step: ConsumptionReceipt['step'], entries: LedgerEntry[]): ConsumptionReceipt {
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

function invalid(message: string): never {
  throw new LabFault('InvalidOperation', message, true);
}

function now(): string {
  return new Date().toISOString();
}
