import type Database from 'better-sqlite3';
import { COST_CATEGORIES, ITEM_KINDS, STEPS } from './consumption';

/**
 * The inventory's tables in the lab's SQLite file, as numbered migrations. Each runs once, in
 * order, inside the transaction that opens the store, and is recorded in `inventory_schema`, so
 * two processes opening one file at once apply it once. Version 1 is the schema files were
 * created with before migrations were recorded; its statements are IF NOT EXISTS, so such a file
 * upgrades in place. Add a migration at the end; never edit one that has shipped.
 */
export interface Migration {
  version: number;
  description: string;
  sql: string;
}

const APPEND_ONLY = ['inventory_operations', 'inventory_consumption', 'inventory_plates', 'inventory_restocks'];

export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    description: 'items, operations, consumption, opened plates, restocks; append-only triggers',
    sql: `
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
${APPEND_ONLY.map(
  (t) => `
CREATE TRIGGER IF NOT EXISTS ${t}_no_update BEFORE UPDATE ON ${t}
  BEGIN SELECT RAISE(ABORT, '${t} is append-only'); END;
CREATE TRIGGER IF NOT EXISTS ${t}_no_delete BEFORE DELETE ON ${t}
  BEGIN SELECT RAISE(ABORT, '${t} is append-only'); END;`,
).join('')}
`,
  },
  {
    version: 2,
    description: 'indexes for the ledger of one experiment and the restocks of one item',
    // Lookups by operation key use the consumption table's primary key (operation_key, item).
    sql: `
CREATE INDEX IF NOT EXISTS inventory_consumption_by_experiment ON inventory_consumption (experiment_workflow_id);
CREATE INDEX IF NOT EXISTS inventory_restocks_by_item ON inventory_restocks (item);
`,
  },
];

/** Applies the migrations this file lacks. Call inside an IMMEDIATE transaction. Returns the versions applied. */
export function migrateInventory(db: Database.Database): number[] {
  db.exec('CREATE TABLE IF NOT EXISTS inventory_schema (version INTEGER PRIMARY KEY, applied_at TEXT NOT NULL)');
  const applied = new Set(
    (db.prepare('SELECT version FROM inventory_schema').all() as { version: number }[]).map((r) => r.version),
  );
  const record = db.prepare('INSERT INTO inventory_schema (version, applied_at) VALUES (?, ?)');
  const ran: number[] = [];
  for (const m of MIGRATIONS) {
    if (applied.has(m.version)) continue;
    db.exec(m.sql);
    record.run(m.version, new Date().toISOString());
    ran.push(m.version);
  }
  return ran;
}

function sqlList(values: readonly string[]): string {
  return values.map((v) => `'${v.replace(/'/g, "''")}'`).join(', ');
}
