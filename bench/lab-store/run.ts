import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { InstrumentGuard } from '../../src/instruments/instrument-guard';
import { DEFAULT_STOCK } from '../../src/inventory/default-stock';
import { InventoryStore } from '../../src/inventory/inventory-store';
import { openLabDatabase } from '../../src/lab/sqlite';
import { wellForIndex } from '../../src/lab/plate';

/**
 * `npm run bench:lab-store`: what one lab step costs in the lab file as its history grows. For
 * 10k, 100k and 1M rows of consumption history it times a step's store work (take the instrument's
 * lease, draw the step's stock in one transaction, release the lease) and, on the same file, the
 * ledger lookup by operation key as it was written before the store was split
 * (`(@x IS NULL OR col = @x)` filters, which no index can serve). PASS when the step at 1M rows
 * costs at most 2× the step at 10k. `--sizes 10000,100000` picks other sizes; `--steps N` the
 * steps timed per size (default 300).
 */
const args = process.argv.slice(2);
const option = (name: string): string | undefined => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : undefined;
};
const SIZES = (option('--sizes') ?? '10000,100000,1000000').split(',').map(Number);
const STEPS = Number(option('--steps') ?? 300);
const LEGACY_LOOKUPS = 15;
for (const n of [...SIZES, STEPS])
  if (!Number.isInteger(n) || n < 1) throw new Error(`--sizes and --steps take positive whole numbers (got ${n})`);

const LEGACY_LEDGER_SQL = `SELECT * FROM inventory_consumption
  WHERE (@campaignId IS NULL OR campaign_id = @campaignId)
    AND (@experimentWorkflowId IS NULL OR experiment_workflow_id = @experimentWorkflowId)
    AND (@operationKey IS NULL OR operation_key = @operationKey)
  ORDER BY rowid`;

/** Levels large enough that a long benchmark never runs short. */
const STOCK = DEFAULT_STOCK.map((d) => ({ ...d, level: d.kind === 'compound' ? 1e7 : 5e7 }));

interface Row {
  rows: number;
  stepMedianMs: number;
  stepP90Ms: number;
  legacyLookupMedianMs: number;
}

/** Fills the file with `rows` consumption rows (four per dose-like operation), the way months of campaigns would. */
function fillHistory(path: string, rows: number): void {
  const db = openLabDatabase(path);
  const op = db.prepare(
    `INSERT INTO inventory_operations (operation_key, step, campaign_id, experiment_workflow_id, plate_id, well, at)
     VALUES (?, 'dose', ?, ?, ?, ?, ?)`,
  );
  const line = db.prepare(
    `INSERT INTO inventory_consumption (operation_key, item, step, category, campaign_id, experiment_workflow_id,
       plate_id, well, quantity, unit, unit_cost_usd, cost_usd, lot, at)
     VALUES (?, ?, 'dose', ?, ?, ?, ?, ?, 1, ?, 0.1, 0.1, NULL, ?)`,
  );
  const items = [
    ['tips', 'tips', 'tip'],
    ['staurosporine', 'compound', 'µL'],
    ['DMSO', 'DMSO', 'mL'],
    ['liquid handler', 'instrument time', 's'],
  ] as const;
  const at = new Date(0).toISOString();
  db.transaction(() => {
    for (let i = 0; i * items.length < rows; i++) {
      const campaign = `campaign-history-${Math.floor(i / 5000)}`;
      const experiment = `${campaign}/e${i}`;
      const plate = `${campaign}-p${Math.floor(i / 96)}`;
      const well = wellForIndex(i % 96);
      const key = `${experiment}/dose/1`;
      op.run(key, campaign, experiment, plate, well, at);
      for (const [item, category, unit] of items)
        line.run(key, item, category, campaign, experiment, plate, well, unit, at);
    }
  }).immediate();
  db.close();
}

function quantile(xs: number[], q: number): number {
  const sorted = [...xs].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
}

function measure(rows: number): Row {
  const dir = mkdtempSync(join(tmpdir(), 'cellos-bench-lab-store-'));
  const path = join(dir, 'lab.db');
  try {
    InventoryStore.open(path, { initialStock: STOCK }).close();
    const fillStart = performance.now();
    fillHistory(path, rows);
    process.stderr.write(
      `  ${rows} rows of history written in ${((performance.now() - fillStart) / 1000).toFixed(1)} s\n`,
    );
    const store = InventoryStore.open(path, { initialStock: STOCK });
    const guard = InstrumentGuard.open(path);
    const times: number[] = [];
    for (let i = 0; i < STEPS; i++) {
      const experimentWorkflowId = `campaign-bench/e${i}`;
      const operationKey = `${experimentWorkflowId}/dose/1`;
      const location = { plateId: `campaign-bench-p${Math.floor(i / 96)}`, well: wellForIndex(i % 96) };
      const draw = {
        operationKey,
        campaignId: 'campaign-bench',
        experimentWorkflowId,
        use: {
          step: 'dose' as const,
          location,
          compound: 'staurosporine',
          doseMicromolar: 1,
          volumeMicrolitres: 10,
          compoundPricing: { molecularWeight: 466.5, usdPerMg: 10 },
        },
      };
      const t0 = performance.now();
      guard.acquire('liquid handler', operationKey, 1, 10_000);
      store.consume(draw);
      // A retry of the same step finds its first record: the lookup by operation key.
      store.consume(draw);
      guard.release('liquid handler', operationKey);
      times.push(performance.now() - t0);
    }
    store.close();
    guard.close();
    const db = openLabDatabase(path);
    const legacy = db.prepare(LEGACY_LEDGER_SQL);
    const legacyTimes: number[] = [];
    for (let i = 0; i < LEGACY_LOOKUPS; i++) {
      const t0 = performance.now();
      legacy.all({ campaignId: null, experimentWorkflowId: null, operationKey: `campaign-bench/e${i}/dose/1` });
      legacyTimes.push(performance.now() - t0);
    }
    db.close();
    return {
      rows,
      stepMedianMs: quantile(times.slice(10), 0.5),
      stepP90Ms: quantile(times.slice(10), 0.9),
      legacyLookupMedianMs: quantile(legacyTimes, 0.5),
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const results: Row[] = [];
for (const rows of SIZES) {
  process.stderr.write(`measuring at ${rows} rows…\n`);
  results.push(measure(rows));
}
const pad = (s: string, n: number) => s.padStart(n);
console.log(
  `${pad('history rows', 12)}  ${pad('step median', 12)}  ${pad('step p90', 10)}  ${pad('before: lookup', 15)}`,
);
for (const r of results)
  console.log(
    `${pad(String(r.rows), 12)}  ${pad(`${r.stepMedianMs.toFixed(3)} ms`, 12)}  ${pad(`${r.stepP90Ms.toFixed(3)} ms`, 10)}  ${pad(`${r.legacyLookupMedianMs.toFixed(3)} ms`, 15)}`,
  );
console.log(
  '(a step: lease acquire + first consume + a retried consume + lease release; "before": the ledger lookup by operation key as the unsplit store wrote it, which every step ran)',
);
const first = results[0]!;
const last = results[results.length - 1]!;
const ratio = last.stepMedianMs / first.stepMedianMs;
const legacyRatio = last.legacyLookupMedianMs / first.legacyLookupMedianMs;
const holds = ratio <= 2;
console.log(
  `${holds ? 'PASS' : 'FAIL'}  step cost flat within 2×: ${last.rows} rows / ${first.rows} rows = ${ratio.toFixed(2)}× (before: the lookup alone grew ${legacyRatio.toFixed(1)}×)`,
);
process.exitCode = holds ? 0 : 1;
