import type Database from 'better-sqlite3';
import { LabFault } from '../lab/driver';
import { ITEM_KINDS, type ItemDefinition, type ItemKind, MAX_STOCK_LEVEL, OUT_OF_STOCK } from './consumption';

/**
 * Stock levels: one row per item, the only inventory rows that ever change. Its statements are
 * prepared once, when the store opens; callers hold the transaction.
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

export class StockLevels {
  private readonly byName: Database.Statement;
  private readonly all: Database.Statement;
  private readonly insertItem: Database.Statement;
  private readonly updateLevel: Database.Statement;
  private readonly updateRestocked: Database.Statement;
  private readonly findBad: Database.Statement;
  private readonly zeroBad: Database.Statement;

  constructor(db: Database.Database) {
    this.byName = db.prepare('SELECT * FROM inventory_items WHERE item = ?');
    this.all = db.prepare('SELECT * FROM inventory_items');
    this.insertItem = db.prepare(
      `INSERT INTO inventory_items (item, kind, unit, level, lot, stock_concentration_micromolar, reorder_level,
         description, updated_at)
       VALUES (@item, @kind, @unit, @level, @lot, @conc, @reorderLevel, @description, @at)`,
    );
    this.updateLevel = db.prepare('UPDATE inventory_items SET level = ?, updated_at = ? WHERE item = ?');
    this.updateRestocked = db.prepare(
      `UPDATE inventory_items SET level = ?, lot = coalesce(?, lot),
         stock_concentration_micromolar = coalesce(?, stock_concentration_micromolar), updated_at = ?
       WHERE item = ?`,
    );
    this.findBad = db.prepare('SELECT item FROM inventory_items WHERE NOT (level >= 0 AND level <= ?)');
    this.zeroBad = db.prepare(
      'UPDATE inventory_items SET level = 0, updated_at = ? WHERE NOT (level >= 0 AND level <= ?)',
    );
  }

  get(item: string): InventoryItem | undefined {
    const row = this.byName.get(item) as ItemRow | undefined;
    return row && toItem(row);
  }

  /** Every stocked item, by kind then name. */
  list(): InventoryItem[] {
    return (this.all.all() as ItemRow[])
      .map(toItem)
      .sort((a, b) => ITEM_KINDS.indexOf(a.kind) - ITEM_KINDS.indexOf(b.kind) || a.item.localeCompare(b.item));
  }

  /** Exact name, or the one item whose name matches ignoring case ("dmso" → "DMSO"). */
  resolve(name: string): InventoryItem | undefined {
    const exact = this.get(name);
    if (exact) return exact;
    const matches = this.list().filter((i) => i.item.toLowerCase() === name.toLowerCase());
    return matches.length === 1 ? matches[0] : undefined;
  }

  insert(def: ItemDefinition, at: string): void {
    this.insertItem.run({
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
  }

  setLevel(item: string, level: number, at: string): void {
    this.updateLevel.run(level, at, item);
  }

  restocked(item: string, level: number, lot: string | null, conc: number | null, at: string): void {
    this.updateRestocked.run(level, lot, conc, at, item);
  }

  /** Sets levels no restock could have made (infinite, NaN, above MAX_STOCK_LEVEL) to 0; returns those items. */
  repair(at: string): string[] {
    const bad = this.findBad.all(MAX_STOCK_LEVEL) as { item: string }[];
    if (bad.length > 0) this.zeroBad.run(at, MAX_STOCK_LEVEL);
    return bad.map((b) => b.item);
  }
}

/** Throws a RangeError naming the field when an item definition could not be stocked. */
export function checkDefinition(def: ItemDefinition): void {
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
