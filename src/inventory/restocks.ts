import type Database from 'better-sqlite3';

/** Restocks, initial stock included: append-only, one row per change a person (or the first open) made. */

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

export interface NewRestock {
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
}

export class RestockLog {
  private readonly byRequest: Database.Statement;
  private readonly byId: Database.Statement;
  private readonly insertRow: Database.Statement;
  private readonly all: Database.Statement;
  private readonly ofItem: Database.Statement;

  constructor(db: Database.Database) {
    this.byRequest = db.prepare('SELECT * FROM inventory_restocks WHERE request_id = ?');
    this.byId = db.prepare('SELECT * FROM inventory_restocks WHERE restock_id = ?');
    this.insertRow = db.prepare(
      `INSERT INTO inventory_restocks (request_id, item, amount, unit, lot, stock_concentration_micromolar,
         level_before, level_after, reason, at)
       VALUES (@requestId, @item, @amount, @unit, @lot, @conc, @levelBefore, @levelAfter, @reason, @at)`,
    );
    this.all = db.prepare('SELECT * FROM inventory_restocks ORDER BY restock_id');
    this.ofItem = db.prepare('SELECT * FROM inventory_restocks WHERE item = ? ORDER BY restock_id');
  }

  findRequest(requestId: string): RestockRecord | undefined {
    const row = this.byRequest.get(requestId) as RestockRow | undefined;
    return row && toRestock(row);
  }

  record(row: NewRestock): RestockRecord {
    const id = Number(this.insertRow.run(row).lastInsertRowid);
    return toRestock(this.byId.get(id) as RestockRow);
  }

  /** Oldest first, optionally of one item. */
  list(filter: { item?: string } = {}): RestockRecord[] {
    const rows = (filter.item === undefined ? this.all.all() : this.ofItem.all(filter.item)) as RestockRow[];
    return rows.map(toRestock);
  }
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
