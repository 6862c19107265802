import { openLabDatabase } from './sqlite';
import type Database from 'better-sqlite3';
import type { CellLineBiology } from '../config/lab-profile';
import type { Assay, RawReadout, WellLocation } from '../domain/types';
import { type DoseReceipt, type FaultProfile, LabFault, type PairResponseTruth, type SeedReceipt } from './driver';
import { WELL_WORKING_VOLUME_MICROLITRES, isWellName } from './plate';

/**
 * The virtual lab's physical state in one SQLite file: plates, wells and an append-only log of
 * every operation. Several worker processes share the file (WAL, busy timeout), and each
 * operation runs in one IMMEDIATE transaction keyed by its operation key, so a retried or
 * duplicated activity finds the first outcome instead of acting twice.
 */

export type OperationKind = 'seed' | 'dose' | 'read';

export interface WellRecord {
  plateId: string;
  well: string;
  /** Logical plate the simulator's random streams are keyed by (the plate id unless the seed named one). */
  noiseKey: string;
  labSeed: number;
  cellLine: string;
  cellsSeeded: number;
  volumeMicrolitres: number;
  biology: CellLineBiology;
  faults: FaultProfile;
  seededAt: string;
  /** Present once dosed; '' with dose 0 is the vehicle. */
  compound?: string;
  doseMicromolar?: number;
  deliveredDoseMicromolar?: number;
  /** The well's own vehicle-normalised fraction alive at the reference treatment length. */
  fractionAlive?: number;
  response?: PairResponseTruth;
  attachmentHours?: number;
  dosedAt?: string;
  readCount: number;
  lysed: boolean;
}

export interface OperationRecord {
  operationKey: string;
  kind: OperationKind;
  plateId: string;
  well: string;
  at: string;
  status: 'succeeded' | 'failed';
  result: unknown;
}

export interface OperationCount {
  plateId: string;
  well: string;
  kind: OperationKind;
  count: number;
}

export interface StoredFault {
  type: string;
  message: string;
  permanent: boolean;
}

/** Kinds of injected fault the lab logs (chaos runs and tests count them). */
export type InjectedFaultKind =
  'transient' | 'latency spike' | 'hang' | 'went offline' | 'offline refusal' | 'contamination' | 'plate drop';

export interface InjectedFault {
  kind: InjectedFaultKind;
  instrument: string;
  operationKey: string;
  attempt: number;
  plateId: string;
  well: string;
  at: string;
}

/** An instrument switched off (by a person or an injected fault) until `untilMs`, or until switched on. */
export interface InstrumentOutage {
  instrument: string;
  reason: string;
  since: string;
  untilMs?: number;
}

/** What an operation did: a result to store, or a permanent fault to store and rethrow. */
export type OperationOutcome<T> = { ok: true; result: T } | { ok: false; fault: StoredFault };

export interface SeedWellInput {
  operationKey: string;
  location: WellLocation;
  /** Logical plate for the random streams; the plate id when absent. */
  noiseKey?: string;
  labSeed: number;
  cellLine: string;
  volumeMicrolitres: number;
  biology: CellLineBiology;
  faults: FaultProfile;
  /**
   * Runs inside the transaction once the seed is known to be possible; may throw to abort, or
   * report a permanent fault (a dropped plate), which is logged and rethrown.
   */
  act: () => OperationOutcome<{ cellsSeeded: number }>;
}

export interface DoseWellInput {
  operationKey: string;
  location: WellLocation;
  compound: string;
  doseMicromolar: number;
  volumeMicrolitres: number;
  attachmentHours: number;
  response: PairResponseTruth | undefined;
  act: (well: WellRecord) => OperationOutcome<{ deliveredDoseMicromolar: number; fractionAlive: number }>;
}

export interface ReadWellInput {
  operationKey: string;
  location: WellLocation;
  assay: Assay;
  /** Luminescent ATP assays lyse the cells: the well cannot be read again afterwards. */
  lytic: boolean;
  /** `readIndex` counts earlier reads of this well (0 for the first). */
  act: (well: WellRecord, readIndex: number) => OperationOutcome<RawReadout>;
}

const SCHEMA = `
CREATE TABLE IF NOT EXISTS plates (plate_id TEXT PRIMARY KEY, format TEXT NOT NULL, created_at TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS wells (
  plate_id TEXT NOT NULL REFERENCES plates (plate_id), well TEXT NOT NULL, noise_key TEXT, lab_seed INTEGER NOT NULL,
  cell_line TEXT NOT NULL, cells_seeded REAL NOT NULL, volume_microlitres REAL NOT NULL,
  biology_json TEXT NOT NULL, faults_json TEXT NOT NULL, seeded_at TEXT NOT NULL,
  -- NULL until dosed; compound '' with dose 0 is the vehicle.
  compound TEXT, dose_micromolar REAL, delivered_dose_micromolar REAL, fraction_alive REAL, response_json TEXT,
  attachment_hours REAL, dosed_at TEXT,
  read_count INTEGER NOT NULL DEFAULT 0, lysed INTEGER NOT NULL DEFAULT 0,
  PRIMARY KEY (plate_id, well)
);
CREATE TABLE IF NOT EXISTS operations (
  operation_key TEXT PRIMARY KEY,
  kind TEXT NOT NULL CHECK (kind IN ('seed', 'dose', 'read')),
  plate_id TEXT NOT NULL, well TEXT NOT NULL, at TEXT NOT NULL,
  status TEXT NOT NULL CHECK (status IN ('succeeded', 'failed')),
  result_json TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS operations_by_well ON operations (plate_id, well, kind);
CREATE TRIGGER IF NOT EXISTS operations_no_update BEFORE UPDATE ON operations
  BEGIN SELECT RAISE(ABORT, 'the operations log is append-only'); END;
CREATE TRIGGER IF NOT EXISTS operations_no_delete BEFORE DELETE ON operations
  BEGIN SELECT RAISE(ABORT, 'the operations log is append-only'); END;
-- Instruments currently switched off; a row whose until_ms has passed is back online.
CREATE TABLE IF NOT EXISTS instrument_outages (
  instrument TEXT PRIMARY KEY, reason TEXT NOT NULL, since TEXT NOT NULL, until_ms INTEGER
);
-- Every fault the virtual lab injected, for tests and chaos runs to count.
CREATE TABLE IF NOT EXISTS injected_faults (
  kind TEXT NOT NULL, instrument TEXT NOT NULL, operation_key TEXT NOT NULL, attempt INTEGER NOT NULL,
  plate_id TEXT NOT NULL, well TEXT NOT NULL, at TEXT NOT NULL
);
`;

/** Columns added after the first release, for lab files created before them. */
const MIGRATIONS: { table: string; column: string; ddl: string }[] = [
  { table: 'wells', column: 'noise_key', ddl: 'ALTER TABLE wells ADD COLUMN noise_key TEXT' },
];

export class LabStore {
  private constructor(private readonly db: Database.Database) {}

  /**
   * Open (creating if needed, with parent directories) the lab file at `path`. The busy timeout
   * lets concurrent worker processes queue for the write lock instead of failing.
   */
  static open(path: string): LabStore {
    const db = openLabDatabase(path);
    db.transaction(() => {
      db.exec(SCHEMA);
      for (const m of MIGRATIONS) {
        const columns = db.prepare(`PRAGMA table_info(${m.table})`).all() as { name: string }[];
        if (!columns.some((c) => c.name === m.column)) db.exec(m.ddl);
      }
    }).immediate();
    return new LabStore(db);
  }

  close(): void {
    if (this.db.open) this.db.close();
  }

  /**
   * Seed a well, or return the first receipt if this operation key already ran. Refuses a well
   * that is occupied, an unknown well name and more liquid than the well holds.
   */
  seed(input: SeedWellInput): SeedReceipt {
    return this.once<SeedReceipt>(input.operationKey, 'seed', input.location, () => {
      const where = describe(input.location);
      const existing = this.getWell(input.location);
      if (existing) refuse(`cannot seed ${where}: it already holds ${existing.cellLine} cells`);
      checkVolume(where, 0, input.volumeMicrolitres);
      const acted = input.act();
      if (!acted.ok) return acted;
      const { cellsSeeded } = acted.result;
      const row = {
        ...input,
        ...input.location,
        noiseKey: input.noiseKey ?? null,
        cellsSeeded,
        at: new Date().toISOString(),
      };
      this.db
        .prepare(`INSERT OR IGNORE INTO plates (plate_id, format, created_at) VALUES (@plateId, '96-well', @at)`)
        .run(row);
      this.db
        .prepare(
          `INSERT INTO wells (plate_id, well, noise_key, lab_seed, cell_line, cells_seeded, volume_microlitres,
             biology_json, faults_json, seeded_at) VALUES (@plateId, @well, @noiseKey, @labSeed, @cellLine,
             @cellsSeeded, @volumeMicrolitres, @biologyJson, @faultsJson, @at)`,
        )
        .run({ ...row, biologyJson: JSON.stringify(input.biology), faultsJson: JSON.stringify(input.faults) });
      return { ok: true, result: { cellsSeeded, volumeMicrolitres: input.volumeMicrolitres } };
    });
  }

  /** Dose a seeded, undosed well, or return the first receipt for a repeated operation key. */
  dose(input: DoseWellInput): DoseReceipt {
    return this.once<DoseReceipt>(input.operationKey, 'dose', input.location, () => {
      const where = describe(input.location);
      const well = this.getWell(input.location);
      if (!well) refuse(`cannot dose ${where}: the well was never seeded`);
      if (well.dosedAt !== undefined)
        refuse(
          `cannot dose ${where}: it was already dosed with ${well.compound || 'vehicle'} at ${well.doseMicromolar} µM`,
        );
      checkVolume(where, well.volumeMicrolitres, input.volumeMicrolitres);
      const acted = input.act(well);
      if (!acted.ok) return acted;
      const delivered = acted.result;
      this.db
        .prepare(
          `UPDATE wells SET compound = @compound, dose_micromolar = @doseMicromolar,
             delivered_dose_micromolar = @deliveredDoseMicromolar, fraction_alive = @fractionAlive,
             response_json = @responseJson, attachment_hours = @attachmentHours, dosed_at = @at,
             volume_microlitres = volume_microlitres + @volumeMicrolitres
           WHERE plate_id = @plateId AND well = @well`,
        )
        .run({
          ...input,
          ...input.location,
          ...delivered,
          responseJson: input.response ? JSON.stringify(input.response) : null,
          at: new Date().toISOString(),
        });
      return { ok: true, result: { doseMicromolar: input.doseMicromolar, volumeMicrolitres: input.volumeMicrolitres } };
    });
  }

  /**
   * Read a dosed well, or return (or rethrow) the first outcome for a repeated operation key. A
   * failed read (contamination) is logged like a successful one, so it is counted and replayed.
   */
  read(input: ReadWellInput): RawReadout {
    return this.once<RawReadout>(input.operationKey, 'read', input.location, () => {
      const where = describe(input.location);
      const well = this.getWell(input.location);
      if (!well) refuse(`cannot read ${where}: the well was never seeded`);
      if (well.dosedAt === undefined) refuse(`cannot read ${where}: the well was never dosed (not even with vehicle)`);
      if (well.lysed) refuse(`cannot read ${where}: a lytic viability read already consumed the cells`);
      const outcome = input.act(well, well.readCount);
      this.db
        .prepare('UPDATE wells SET read_count = read_count + 1, lysed = ? WHERE plate_id = ? AND well = ?')
        .run(outcome.ok && input.lytic ? 1 : 0, input.location.plateId, input.location.well);
      return outcome;
    });
  }

  /** Log an injected fault (outside any operation's transaction: a failed attempt still leaves this trace). */
  recordFault(fault: Omit<InjectedFault, 'at'>): void {
    this.db
      .prepare(
        `INSERT INTO injected_faults (kind, instrument, operation_key, attempt, plate_id, well, at)
         VALUES (@kind, @instrument, @operationKey, @attempt, @plateId, @well, @at)`,
      )
      .run({ ...fault, at: new Date().toISOString() });
  }

  /** Every injected fault in the order it happened. */
  listFaults(): InjectedFault[] {
    return this.db
      .prepare(
        `SELECT kind, instrument, operation_key AS operationKey, attempt, plate_id AS plateId, well, at
         FROM injected_faults ORDER BY rowid`,
      )
      .all() as InjectedFault[];
  }

  /** Injected faults counted by kind. */
  faultCounts(): Partial<Record<InjectedFaultKind, number>> {
    const rows = this.db.prepare('SELECT kind, COUNT(*) AS n FROM injected_faults GROUP BY kind').all() as {
      kind: InjectedFaultKind;
      n: number;
    }[];
    return Object.fromEntries(rows.map((r) => [r.kind, r.n]));
  }

  /** Switch an instrument off until `untilMs` (epoch ms), or until `setOnline`. */
  setOffline(instrument: string, options: { reason: string; untilMs?: number }): void {
    this.db
      .prepare(
        `INSERT INTO instrument_outages (instrument, reason, since, until_ms) VALUES (?, ?, ?, ?)
         ON CONFLICT (instrument) DO UPDATE SET reason = excluded.reason, since = excluded.since,
           until_ms = excluded.until_ms`,
      )
      .run(instrument, options.reason, new Date().toISOString(), options.untilMs ?? null);
  }

  /** Switch an instrument back on; true if it was off. */
  setOnline(instrument: string): boolean {
    return this.db.prepare('DELETE FROM instrument_outages WHERE instrument = ?').run(instrument).changes > 0;
  }

  /** The instrument's current outage, if it is off at `nowMs`. */
  outage(instrument: string, nowMs = Date.now()): InstrumentOutage | undefined {
    return this.outages(nowMs).find((o) => o.instrument === instrument);
  }

  /** Every instrument that is off at `nowMs`. */
  outages(nowMs = Date.now()): InstrumentOutage[] {
    const rows = this.db
      .prepare(
        `SELECT instrument, reason, since, until_ms AS untilMs FROM instrument_outages
         WHERE until_ms IS NULL OR until_ms > ? ORDER BY instrument`,
      )
      .all(nowMs) as (Omit<InstrumentOutage, 'untilMs'> & { untilMs: number | null })[];
    return rows.map(({ untilMs, ...rest }) => (untilMs === null ? rest : { ...rest, untilMs }));
  }

  /** The logged operation with this key, if it ran. */
  getOperation(operationKey: string): OperationRecord | undefined {
    const row = this.db.prepare('SELECT * FROM operations WHERE operation_key = ?').get(operationKey) as
      OperationRow | undefined;
    return row && toOperation(row);
  }

  /** Every logged operation in the order it was recorded, optionally of one kind or plate. */
  listOperations(filter: { kind?: OperationKind; plateId?: string } = {}): OperationRecord[] {
    const rows = this.db
      .prepare(
        `SELECT * FROM operations WHERE (@kind IS NULL OR kind = @kind) AND (@plateId IS NULL OR plate_id = @plateId)
         ORDER BY rowid`,
      )
      .all({ kind: filter.kind ?? null, plateId: filter.plateId ?? null }) as OperationRow[];
    return rows.map(toOperation);
  }

  /**
   * How many operations of each kind touched each well. Crash tests assert these are all 1: a
   * well seeded, dosed or read twice means some retry acted a second time.
   */
  operationCounts(): OperationCount[] {
    return this.db
      .prepare(
        `SELECT plate_id AS plateId, well, kind, COUNT(*) AS count FROM operations
         GROUP BY plate_id, well, kind ORDER BY plate_id, well, kind`,
      )
      .all() as OperationCount[];
  }

  /**
   * Run an operation exactly once per key. The IMMEDIATE transaction takes the write lock before
   * looking the key up, so two processes racing on one key cannot both act. A key reused for a
   * different operation is a caller bug and is refused rather than answered with the wrong result.
   */
  private once<T>(
    operationKey: string,
    kind: OperationKind,
    location: WellLocation,
    act: () => OperationOutcome<T>,
  ): T {
    const outcome = this.db
      .transaction((): OperationOutcome<T> => {
        const prior = this.getOperation(operationKey);
        if (prior) {
          if (prior.kind !== kind || prior.plateId !== location.plateId || prior.well !== location.well)
            refuse(`operation key "${operationKey}" was already used to ${prior.kind} ${prior.plateId}/${prior.well}`);
          return prior.status === 'succeeded'
            ? { ok: true, result: prior.result as T }
            : { ok: false, fault: prior.result as StoredFault };
        }
        checkLocation(location);
        const fresh = act();
        this.db
          .prepare(
            `INSERT INTO operations (operation_key, kind, plate_id, well, at, status, result_json)
             VALUES (@operationKey, @kind, @plateId, @well, @at, @status, @resultJson)`,
          )
          .run({
            ...location,
            operationKey,
            kind,
            at: new Date().toISOString(),
            status: fresh.ok ? 'succeeded' : 'failed',
            resultJson: JSON.stringify(fresh.ok ? fresh.result : fresh.fault),
          });
        return fresh;
      })
      .immediate();
    if (!outcome.ok) throw new LabFault(outcome.fault.type, outcome.fault.message, outcome.fault.permanent);
    return outcome.result;
  }

  /** The well's current state, or undefined if it was never seeded. */
  getWell(location: WellLocation): WellRecord | undefined {
    const row = this.db.prepare(WELL_SELECT).get(location.plateId, location.well) as
      Record<string, unknown> | undefined;
    return row && toWell(row);
  }
}

interface OperationRow {
  operation_key: string;
  kind: OperationKind;
  plate_id: string;
  well: string;
  at: string;
  status: 'succeeded' | 'failed';
  result_json: string;
}

const WELL_SELECT = `SELECT plate_id AS plateId, well, COALESCE(noise_key, plate_id) AS noiseKey, lab_seed AS labSeed,
  cell_line AS cellLine,
  cells_seeded AS cellsSeeded, volume_microlitres AS volumeMicrolitres, biology_json AS biology, faults_json AS faults,
  seeded_at AS seededAt, compound, dose_micromolar AS doseMicromolar,
  delivered_dose_micromolar AS deliveredDoseMicromolar, fraction_alive AS fractionAlive, response_json AS response,
  attachment_hours AS attachmentHours, dosed_at AS dosedAt, read_count AS readCount, lysed
  FROM wells WHERE plate_id = ? AND well = ?`;

const JSON_WELL_FIELDS = ['biology', 'faults', 'response'] as const;

/** SQL NULL becomes an absent field, JSON columns become objects, the lysed flag a boolean. */
function toWell(row: Record<string, unknown>): WellRecord {
  const well: Record<string, unknown> = {};
  for (const [field, value] of Object.entries(row)) if (value !== null) well[field] = value;
  for (const field of JSON_WELL_FIELDS) if (typeof well[field] === 'string') well[field] = JSON.parse(well[field]);
  well.lysed = row.lysed === 1;
  return well as unknown as WellRecord;
}

function toOperation(row: OperationRow): OperationRecord {
  return {
    operationKey: row.operation_key,
    kind: row.kind,
    plateId: row.plate_id,
    well: row.well,
    at: row.at,
    status: row.status,
    result: JSON.parse(row.result_json) as unknown,
  };
}

function describe(location: WellLocation): string {
  return `well ${location.plateId}/${location.well}`;
}

/** Throw the permanent fault for a request no physical lab could carry out. */
function refuse(message: string): never {
  throw new LabFault('InvalidOperation', message, true);
}

function checkLocation(location: WellLocation): void {
  if (location.plateId.trim() === '') refuse('plateId is empty: every well must belong to a named plate');
  if (!isWellName(location.well))
    refuse(`unknown well "${location.well}" on plate ${location.plateId}: expected A1..H12 on a 96-well plate`);
}

function checkVolume(where: string, presentMicrolitres: number, addedMicrolitres: number): void {
  if (!Number.isFinite(addedMicrolitres) || addedMicrolitres <= 0)
    refuse(`cannot add ${addedMicrolitres} µL to ${where}: the volume must be a positive number of µL`);
  if (presentMicrolitres + addedMicrolitres > WELL_WORKING_VOLUME_MICROLITRES)
    refuse(
      `cannot add ${addedMicrolitres} µL to ${where}: it holds ${presentMicrolitres} µL and the working volume is ` +
        `${WELL_WORKING_VOLUME_MICROLITRES} µL`,
    );
}
