import { chmodSync, mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';

/**
 * The one way the lab's SQLite file is opened, by the virtual lab's store, the inventory and the
 * instrument leases alike: its folder and the file are owner-only (a lab file holds compound
 * identities and results), WAL so readers never block the writer, a busy timeout so processes
 * sharing the file wait for each other instead of failing, foreign keys on.
 */
export function openLabDatabase(path: string): Database.Database {
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  const db = new Database(path);
  chmodSync(path, 0o600);
  db.pragma('busy_timeout = 5000');
  db.pragma('journal_mode = WAL');
  db.pragma('foreign_keys = ON');
  return db;
}
