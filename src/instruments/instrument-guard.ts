import { openLabDatabase } from '../lab/sqlite';
import type Database from 'better-sqlite3';

/**
 * Capacity of an instrument, enforced where the instrument is: leases in the lab's SQLite file.
 *
 * Worker slots (maxConcurrentActivityTaskExecutions = capacity) already keep one worker within
 * capacity; the lease makes it hold whatever the number of worker processes serving a queue.
 * A lease belongs to an operation key, so a retried activity re-enters its own lease, and it
 * expires unless renewed (the activity renews it with each heartbeat), so a killed worker's
 * lease frees itself within `ttlMs` instead of leaking. Every use is logged, which is also how
 * the lab benchmark measures instrument utilisation.
 */
export interface InstrumentUse {
  instrument: string;
  holder: string;
  startedAtMs: number;
  endedAtMs: number;
}

export class InstrumentBusyError extends Error {
  constructor(readonly instrument: string) {
    super(`${instrument} is busy (all its capacity is in use)`);
    this.name = 'InstrumentBusyError';
  }
}

export class InstrumentGuard {
  /** Statements prepared once, on first use. */
  private readonly statements = new Map<string, Database.Statement>();

  private constructor(private readonly db: Database.Database) {}

  static open(path: string): InstrumentGuard {
    const db = openLabDatabase(path);
    db.exec(`
      CREATE TABLE IF NOT EXISTS instrument_leases (
        instrument TEXT NOT NULL,
        holder TEXT NOT NULL,
        started_at_ms INTEGER NOT NULL,
        expires_at_ms INTEGER NOT NULL,
        PRIMARY KEY (instrument, holder)
      );
      CREATE TABLE IF NOT EXISTS instrument_uses (
        instrument TEXT NOT NULL,
        holder TEXT NOT NULL,
        started_at_ms INTEGER NOT NULL,
        ended_at_ms INTEGER NOT NULL
      );
    `);
    return new InstrumentGuard(db);
  }

  /** Takes (or re-enters, or renews) a lease; throws InstrumentBusyError when capacity is used up. */
  acquire(instrument: string, holder: string, capacity: number, ttlMs: number, nowMs = Date.now()): void {
    this.db
      .transaction(() => {
        this.statement('expire', 'DELETE FROM instrument_leases WHERE instrument = ? AND expires_at_ms < ?').run(
          instrument,
          nowMs,
        );
        const own = this.statement(
          'renew',
          'UPDATE instrument_leases SET expires_at_ms = ? WHERE instrument = ? AND holder = ?',
        ).run(nowMs + ttlMs, instrument, holder);
        if (own.changes > 0) return;
        const { n } = this.statement('count', 'SELECT COUNT(*) AS n FROM instrument_leases WHERE instrument = ?').get(
          instrument,
        ) as { n: number };
        if (n >= capacity) throw new InstrumentBusyError(instrument);
        this.statement(
          'lease',
          'INSERT INTO instrument_leases (instrument, holder, started_at_ms, expires_at_ms) VALUES (?, ?, ?, ?)',
        ).run(instrument, holder, nowMs, nowMs + ttlMs);
      })
      .immediate();
  }

  /**
   * Extends a held lease. Never throws: it runs from a timer (setInterval in the lab activities),
   * where an exception would be uncaught and end the worker process. A busy or broken lab file
   * makes it return false and report the error to `onError` (default: a warning on stderr); the
   * lease then lapses after its TTL and a retry of the operation re-acquires it through acquire(),
   * which does throw and is retried by policy.
   */
  renew(
    instrument: string,
    holder: string,
    ttlMs: number,
    nowMs = Date.now(),
    onError: (err: unknown) => void = warnRenewFailed,
  ): boolean {
    try {
      const result = this.statement(
        'renew',
        'UPDATE instrument_leases SET expires_at_ms = ? WHERE instrument = ? AND holder = ?',
      ).run(nowMs + ttlMs, instrument, holder);
      return result.changes > 0;
    } catch (err) {
      try {
        onError(err);
      } catch {
        // A reporter that throws must not bring the timer down either.
      }
      return false;
    }
  }

  private statement(name: string, sql: string): Database.Statement {
    let statement = this.statements.get(name);
    if (!statement) {
      statement = this.db.prepare(sql);
      this.statements.set(name, statement);
    }
    return statement;
  }

  /** Ends a lease and logs the use. */
  release(instrument: string, holder: string, nowMs = Date.now()): void {
    this.db
      .transaction(() => {
        const lease = this.statement(
          'held',
          'SELECT started_at_ms AS s FROM instrument_leases WHERE instrument = ? AND holder = ?',
        ).get(instrument, holder) as { s: number } | undefined;
        if (!lease) return;
        this.statement('end', 'DELETE FROM instrument_leases WHERE instrument = ? AND holder = ?').run(
          instrument,
          holder,
        );
        this.statement(
          'log',
          'INSERT INTO instrument_uses (instrument, holder, started_at_ms, ended_at_ms) VALUES (?, ?, ?, ?)',
        ).run(instrument, holder, lease.s, nowMs);
      })
      .immediate();
  }

  activeLeases(instrument?: string, nowMs = Date.now()): { instrument: string; holder: string }[] {
    const rows = this.db
      .prepare('SELECT instrument, holder FROM instrument_leases WHERE expires_at_ms >= ? ORDER BY started_at_ms')
      .all(nowMs) as { instrument: string; holder: string }[];
    return instrument ? rows.filter((r) => r.instrument === instrument) : rows;
  }

  uses(instrument?: string): InstrumentUse[] {
    const rows = this.db
      .prepare(
        'SELECT instrument, holder, started_at_ms AS startedAtMs, ended_at_ms AS endedAtMs FROM instrument_uses ORDER BY started_at_ms, rowid',
      )
      .all() as InstrumentUse[];
    return instrument ? rows.filter((r) => r.instrument === instrument) : rows;
  }

  close(): void {
    this.db.close();
  }
}

function warnRenewFailed(err: unknown): void {
  console.warn(`instrument lease not renewed: ${err instanceof Error ? err.message : String(err)}`);
}
