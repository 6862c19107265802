import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';

/**
 * The driver's own record of what it made on the robot, per operation key, in a SQLite file.
 * The robot is not a ledger: it prunes old runs and protocols, and then a lookup by key would
 * find nothing and a retry would run the plate step again. With a ledger, a finished step is
 * answered from here, and a step whose protocol or run the robot no longer has is refused
 * instead of being run twice.
 */
export interface LedgerEntry {
  operationKey: string;
  protocolId?: string;
  runId?: string;
  /** The finished step's report, as JSON. */
  report?: unknown;
}

export class RunLedger {
  private constructor(private readonly db: Database.Database) {}

  static open(path: string): RunLedger {
    mkdirSync(dirname(path), { recursive: true });
    const db = new Database(path);
    db.pragma('busy_timeout = 5000');
    db.pragma('journal_mode = WAL');
    db.exec(`
      CREATE TABLE IF NOT EXISTS opentrons_operations (
        operation_key TEXT PRIMARY KEY,
        protocol_id TEXT,
        run_id TEXT,
        report_json TEXT,
        updated_at TEXT NOT NULL
      );
    `);
    return new RunLedger(db);
  }

  get(operationKey: string): LedgerEntry | undefined {
    const row = this.db
      .prepare(
        'SELECT protocol_id AS protocolId, run_id AS runId, report_json AS report FROM opentrons_operations WHERE operation_key = ?',
      )
      .get(operationKey) as { protocolId: string | null; runId: string | null; report: string | null } | undefined;
    if (!row) return undefined;
    return {
      operationKey,
      ...(row.protocolId ? { protocolId: row.protocolId } : {}),
      ...(row.runId ? { runId: row.runId } : {}),
      ...(row.report ? { report: JSON.parse(row.report) as unknown } : {}),
    };
  }

  noteProtocol(operationKey: string, protocolId: string): void {
    this.upsert(operationKey, { protocol_id: protocolId });
  }

  noteRun(operationKey: string, protocolId: string, runId: string): void {
    this.upsert(operationKey, { protocol_id: protocolId, run_id: runId });
  }

  saveReport(operationKey: string, report: unknown): void {
    this.upsert(operationKey, { report_json: JSON.stringify(report) });
  }

  close(): void {
    this.db.close();
  }

  private upsert(operationKey: string, fields: Record<string, string>): void {
    const columns = Object.keys(fields);
    this.db
      .prepare(
        `INSERT INTO opentrons_operations (operation_key, ${columns.join(', ')}, updated_at)
         VALUES (@key, ${columns.map((c) => `@${c}`).join(', ')}, @at)
         ON CONFLICT (operation_key) DO UPDATE SET ${columns.map((c) => `${c} = excluded.${c}`).join(', ')},
           updated_at = excluded.updated_at`,
      )
      .run({ key: operationKey, ...fields, at: new Date().toISOString() });
  }
}
