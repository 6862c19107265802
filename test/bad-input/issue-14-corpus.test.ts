import { execFileSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { stringify } from 'yaml';
import { describe, expect, it } from 'vitest';
import { loadLabProfileFile } from '../../src/config/lab-profile';
import { ConfigError } from '../../src/config/validation';
import { InventoryStore } from '../../src/inventory/inventory-store';
import { runArgv, runConfig, runProfile, type Verdict } from './edge-pipeline';

/**
 * Regression cases for the defects issue 14's adversarial run found at the edge, each run through
 * the same pipeline as the generated fuzz inputs (edge-pipeline.ts): each must be refused cleanly,
 * naming the field. Stockroom hangs and double restocks: stockroom-calls.test.ts; a damaged lab
 * file: test/lab/lab-file-health.test.ts.
 */
const demo = {
  name: 'corpus',
  cellLines: ['U2OS'],
  compounds: ['staurosporine'],
  doseRange: { minMicromolar: 0.001, maxMicromolar: 10 },
  assay: 'viability',
  batchSize: 4,
  maxIterations: 1,
  budgetUsd: 100,
};
const config = (over: Record<string, unknown>) => stringify({ ...demo, ...over });
const profile = (text: string) => text;

function refusedNaming(verdict: Verdict, field: RegExp): void {
  expect(verdict.kind, JSON.stringify(verdict)).toBe('rejected');
  if (verdict.kind === 'rejected') expect(verdict.fields.join(' ')).toMatch(field);
}

describe('issue 14 regressions: refused at the edge, naming the field', () => {
  it.each([
    [
      'a 56-character name (the campaign id is a 64-character fairness key)',
      config({ name: 'a'.repeat(56) }),
      /^name$/,
    ],
    ['a 63-character name', config({ name: 'a'.repeat(63) }), /^name$/],
    ['a subnormal bottom dose', config({ doseRange: { minMicromolar: 2.4e-319, maxMicromolar: 10 } }), /doseRange/],
    ['a top dose of 0', config({ doseRange: { minMicromolar: 0, maxMicromolar: 0 } }), /doseRange/],
    [
      'a top dose above what the stock can make (1 mM staurosporine stock, 10 µL into 110 µL)',
      config({ doseRange: { minMicromolar: 1, maxMicromolar: 1000 } }),
      /doseRange\.maxMicromolar|maxMicromolar/,
    ],
    [
      'an unknown YAML tag (found by the fuzz run: the library printed a warning and kept the text)',
      config({}).replace('assay: viability', 'assay: !fuzz viability'),
      /^\(file\)$/,
    ],
  ])('config: %s', (_what, text, field) => refusedNaming(runConfig(text), field));

  it.each([
    [
      'doublingHours 1e-9 (NaN readouts recorded as succeeded)',
      'cellLines:\n  Z: { doublingHours: 1.0e-9, maxConfluence: 0.9, countCv: 0.1, viabilityCv: 0.02, bioCv: 0.05 }\n',
      /cellLines\.Z\.doublingHours/,
    ],
    [
      'bottom above top',
      'compounds:\n  x:\n    bottom: 0.8\n    top: 0.5\n    ic50Micromolar: { U2OS: 1 }\n',
      /compounds\.x\.bottom/,
    ],
    [
      'a CV above any real assay',
      'cellLines:\n  Z: { doublingHours: 24, maxConfluence: 0.9, countCv: 3, viabilityCv: 0.02, bioCv: 0.05 }\n',
      /countCv/,
    ],
  ])('profile: %s', (_what, text, field) => refusedNaming(runProfile(profile(text)), field));

  it.each([
    ['restock tips 1e308 (stored an infinite level)', ['restock', 'tips', '1e308'], /amount/],
    ['restock tips Infinity', ['restock', 'tips', 'Infinity'], /amount/],
    [
      'an --id of 65 characters (the server refused it with a stack trace)',
      ['start', 'examples/demo.yaml', '--id', 'x'.repeat(65)],
      /--id/,
    ],
    ['an --id of 200 characters', ['start', 'examples/demo.yaml', '--id', 'x'.repeat(200)], /--id/],
    [
      '--at 2027-02-30 (was scheduled for March 2)',
      ['start', 'examples/demo.yaml', '--at', '2027-02-30T08:00:00Z'],
      /--at/,
    ],
    [
      '--at with no zone (was read as local time)',
      ['start', 'examples/demo.yaml', '--at', '2026-12-03T08:00:00'],
      /--at/,
    ],
    ['a restock --wait that is not a time', ['restock', 'tips', '10', '--wait', 'forever'], /--wait/],
    ['a stockroom --key that cannot be a workflow id', ['inventory', '--key', 'a b'], /--key/],
    [
      'a 4-field --cron (only the server refused it, after connecting)',
      ['schedule', 'create', 'examples/demo.yaml', '--cron', '0 2 * *'],
      /--cron/,
    ],
    ['a --cron hour of 24', ['schedule', 'create', 'examples/demo.yaml', '--cron', '0 24 * * *'], /--cron/],
    ['an --cron @every below 1 s', ['schedule', 'create', 'examples/demo.yaml', '--cron', '@every 10ms'], /--cron/],
  ])('cellos %s', (_what, argv, field) => refusedNaming(runArgv(argv), field));

  it('a profile path that is /dev/zero or a FIFO is refused at once, and errors never echo a file', () => {
    expect(() => loadLabProfileFile('/dev/zero')).toThrow(/labProfile.*not a regular file/);
    const fifo = join(mkdtempSync(join(tmpdir(), 'cellos-corpus-')), 'profile.fifo');
    execFileSync('mkfifo', [fifo]);
    expect(() => loadLabProfileFile(fifo)).toThrow(/labProfile.*not a regular file/);
    let message = '';
    try {
      loadLabProfileFile('/proc/self/environ');
    } catch (err) {
      expect(err).toBeInstanceOf(ConfigError);
      message = (err as Error).message;
    }
    expect(message).not.toBe('');
    expect(message).not.toMatch(/PATH=|HOME=/);
  });

  it('a poisoned stock level (infinite, from before restocks were bounded) is repaired on open', () => {
    const path = join(mkdtempSync(join(tmpdir(), 'cellos-corpus-')), 'lab.db');
    InventoryStore.open(path).close();
    const db = new Database(path);
    db.prepare("UPDATE inventory_items SET level = 1e308 * 10 WHERE item = 'tips'").run();
    db.close();
    const store = InventoryStore.open(path);
    try {
      expect(store.getItem('tips')!.level).toBe(0);
      expect(store.listItems().every((i) => Number.isFinite(i.level))).toBe(true);
      expect(() => store.restock({ item: 'tips', amount: 1e308 })).toThrow(/amount must be a positive number up to/);
    } finally {
      store.close();
    }
  });
});
