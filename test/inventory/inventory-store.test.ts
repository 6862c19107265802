import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { DEFAULT_STOCK } from '../../src/inventory/default-stock';
import {
  type InventoryStore,
  OUT_OF_STOCK,
  OutOfStockFault,
  type ConsumeInput,
} from '../../src/inventory/inventory-store';
import { LabFault } from '../../src/lab/driver';
import { LabStore } from '../../src/lab/lab-store';
import {
  closeAll,
  consumeExperiment,
  type ExperimentPlan,
  openStore,
  pricingOf,
  stockWith,
  tempDbPath,
  usesOf,
} from './fixtures';

afterEach(closeAll);

const plan: ExperimentPlan = {
  campaignId: 'campaign-ic50',
  experimentWorkflowId: 'campaign-ic50/i1-e01',
  plateId: 'ic50-p001',
  well: 'B2',
  compound: 'staurosporine',
  doseMicromolar: 1,
  assay: 'viability',
  compoundPricing: pricingOf('staurosporine'),
};
const uses = usesOf(plan);
const consumeInput = (step: 'seed' | 'dose' | 'measure', overrides: Partial<ConsumeInput> = {}): ConsumeInput => ({
  operationKey: `${plan.experimentWorkflowId}/run-1/${step}`,
  campaignId: plan.campaignId,
  experimentWorkflowId: plan.experimentWorkflowId,
  use: uses[step],
  ...overrides,
});

function levels(store: InventoryStore): Record<string, number> {
  return Object.fromEntries(store.listItems().map((i) => [i.item, i.level]));
}

function fault(run: () => unknown): LabFault {
  try {
    run();
  } catch (err) {
    if (err instanceof LabFault) return err;
    throw err;
  }
  throw new Error('expected a LabFault');
}

describe('idempotent consumption', () => {
  it('draws a repeated operation key once and answers every repeat with the first receipt', () => {
    const store = openStore(tempDbPath());
    const before = levels(store);
    const first = store.consume(consumeInput('seed'));
    const after = levels(store);
    expect(after.tips).toBe(before.tips! - 1);
    expect(after['plate-96']).toBe(before['plate-96']! - 1);
    expect(after.DMEM).toBeCloseTo(before.DMEM! - 0.09, 9);
    expect(after.FBS).toBeCloseTo(before.FBS! - 0.01, 9);
    for (let i = 0; i < 3; i++) expect(store.consume(consumeInput('seed'))).toEqual(first);
    expect(levels(store)).toEqual(after);
    expect(store.ledger().map((e) => e.item)).toEqual(['plate-96', 'tips', 'DMEM', 'FBS', 'liquid handler']);
  });

  it('draws once across two store handles on one file, as two worker processes would', () => {
    const path = tempDbPath();
    const one = openStore(path);
    const two = openStore(path);
    const receipts = ['seed', 'dose', 'measure'].map((step) => {
      const input = consumeInput(step as 'seed');
      const a = one.consume(input);
      expect(two.consume(input)).toEqual(a);
      return a;
    });
    expect(levels(one)).toEqual(levels(two));
    expect(levels(two).tips).toBe(4_800 - 3);
    expect(levels(two).staurosporine).toBeCloseTo(200 - 0.11, 9); // 1 µM × 110 µL / 1 mM
    expect(two.ledger()).toEqual(receipts.flatMap((r) => r.entries));
  });

  it('consumes a plate once per plate id, by the first seed on it', () => {
    const store = openStore(tempDbPath());
    for (const well of ['A1', 'A2', 'A3'])
      consumeExperiment(store, { ...plan, experimentWorkflowId: `${plan.campaignId}/${well}`, well });
    consumeExperiment(store, { ...plan, experimentWorkflowId: 'x/imaging', plateId: 'img-p001', assay: 'imaging' });
    expect(levels(store)['plate-96']).toBe(50 - 1);
    expect(levels(store)['plate-96-imaging']).toBe(20 - 1);
    const plates = store.ledger().filter((e) => e.category === 'plates');
    expect(plates.map((e) => [e.plateId, e.operationKey])).toEqual([
      ['ic50-p001', 'campaign-ic50/A1/seed'],
      ['img-p001', 'x/imaging/seed'],
    ]);
  });

  it('refuses to reuse an operation key for another step or well', () => {
    const store = openStore(tempDbPath());
    store.consume(consumeInput('seed'));
    const reused = fault(() =>
      store.consume(consumeInput('measure', { operationKey: consumeInput('seed').operationKey })),
    );
    expect(reused.type).toBe('InvalidOperation');
    expect(reused.permanent).toBe(true);
    expect(reused.message).toMatch(/already consumed for a seed of ic50-p001\/B2/);
  });

  it('keeps levels equal to initial stock + restocks − ledger', () => {
    const store = openStore(tempDbPath());
    for (let i = 0; i < 12; i++)
      consumeExperiment(store, { ...plan, experimentWorkflowId: `e${i}`, well: `C${i + 1}`, doseMicromolar: 0.3 * i });
    store.restock({ item: 'tips', amount: 96, lot: 'TIP-0002' });
    for (const item of store.listItems()) {
      const added = store.restocks({ item: item.item }).reduce((s, r) => s + r.amount, 0);
      const used = store
        .ledger()
        .filter((e) => e.item === item.item)
        .reduce((s, e) => s + e.quantity, 0);
      expect(item.level).toBeCloseTo(added - used, 9);
    }
  });
});

describe('shortages', () => {
  it('throws OutOfStock naming the missing item and consumes nothing, then runs after a restock', () => {
    const store = openStore(tempDbPath(), stockWith({ tips: 2 }));
    store.consume(consumeInput('seed'));
    store.consume(consumeInput('dose'));
    const before = levels(store);
    const short = fault(() => store.consume(consumeInput('measure')));
    expect(short).toBeInstanceOf(OutOfStockFault);
    expect(short.type).toBe(OUT_OF_STOCK);
    expect(short.instrument).toBe('tips');
    expect(short.permanent).toBe(false);
    expect(short.message).toBe(
      'out of stock: tips (need 1 tip, have 0 tip); the step waits for `cellos restock tips <amount>`',
    );
    expect((short as OutOfStockFault).shortages).toEqual([
      { item: 'tips', unit: 'tip', neededQuantity: 1, availableQuantity: 0, reason: 'insufficient' },
    ]);
    expect(levels(store)).toEqual(before); // the viability reagent was not drawn either
    expect(store.ledger({ operationKey: consumeInput('measure').operationKey })).toEqual([]);
    expect(store.shortagesFor(uses.measure)).toHaveLength(1);

    store.restock({ item: 'tips', amount: 960, lot: 'TIP-0002' });
    const measured = store.consume(consumeInput('measure'));
    expect(measured.entries.map((e) => [e.item, e.lot ?? null])).toEqual([
      ['tips', 'TIP-0002'],
      ['viability-reagent', 'CTG-0001'],
      ['plate reader', null],
    ]);
    expect(levels(store).tips).toBe(959);
    expect(store.shortagesFor(uses.measure)).toEqual([]);
  });

  it('names every missing item at once', () => {
    const store = openStore(tempDbPath(), stockWith({ tips: 0, DMSO: 0.0001 }));
    const short = fault(() => store.consume(consumeInput('dose')));
    expect(short.instrument).toBe('tips, DMSO');
    expect(short.message).toMatch(/tips \(need 1 tip, have 0 tip\); DMSO \(need 0.00055 mL, have 0.0001 mL\)/);
  });

  it('counts a compound the lab never stocked as missing, without drawing the rest', () => {
    const store = openStore(tempDbPath());
    const before = levels(store);
    const short = fault(() =>
      store.consume(consumeInput('dose', { use: { ...uses.dose, compound: 'rapamycin' } as typeof uses.dose })),
    );
    expect(short.type).toBe(OUT_OF_STOCK);
    expect(short.instrument).toBe('rapamycin');
    expect(short.message).toMatch(/rapamycin \(not stocked/);
    expect(levels(store)).toEqual(before);
  });

  it('lets seeds continue on an opened plate when no new plate is left', () => {
    const store = openStore(tempDbPath(), stockWith({ 'plate-96': 1 }));
    consumeExperiment(store, { ...plan, well: 'A1', experimentWorkflowId: 'a1' });
    consumeExperiment(store, { ...plan, well: 'A2', experimentWorkflowId: 'a2' });
    const short = fault(() => consumeExperiment(store, { ...plan, plateId: 'ic50-p002', experimentWorkflowId: 'b1' }));
    expect(short.instrument).toBe('plate-96');
    expect(levels(store)['plate-96']).toBe(0);
  });

  it('never lets a level go below zero, even by float dust', () => {
    // 0.11 µL per 1 µM dose; 0.33 µL is exactly three doses.
    const path = tempDbPath();
    const store = openStore(path, stockWith({ staurosporine: 0.33 }));
    for (const well of ['A1', 'A2', 'A3']) consumeExperiment(store, { ...plan, well, experimentWorkflowId: well });
    expect(levels(store).staurosporine).toBe(0);
    const short = fault(() => consumeExperiment(store, { ...plan, well: 'A4', experimentWorkflowId: 'A4' }));
    expect(short.instrument).toBe('staurosporine');
    const db = new Database(path);
    try {
      expect(() => db.prepare("UPDATE inventory_items SET level = -1 WHERE item = 'tips'").run()).toThrow(/CHECK/);
    } finally {
      db.close();
    }
  });
});

describe('restock', () => {
  it('adds to the level, records the lot and is idempotent by request id', () => {
    const store = openStore(tempDbPath());
    const first = store.restock({ item: 'DMEM', amount: 500, lot: 'DMEM-0002', requestId: 'r-1' });
    expect(first).toMatchObject({ item: 'DMEM', amount: 500, unit: 'mL', levelBefore: 1_000, levelAfter: 1_500 });
    expect(store.restock({ item: 'DMEM', amount: 500, lot: 'DMEM-0002', requestId: 'r-1' })).toEqual(first);
    expect(store.getItem('DMEM')).toMatchObject({ level: 1_500, lot: 'DMEM-0002' });
    expect(store.restocks({ item: 'DMEM' }).map((r) => r.reason)).toEqual(['initial stock', 'restock']);
  });

  it('stocks a new compound given its concentration, and refuses mixing strengths on one shelf', () => {
    const store = openStore(tempDbPath());
    store.restock({ item: 'rapamycin', amount: 100, stockConcentrationMicromolar: 1_000, lot: 'RAP-1' });
    expect(store.getItem('rapamycin')).toMatchObject({ kind: 'compound', unit: 'µL', level: 100 });
    expect(() => store.restock({ item: 'rapamycin', amount: 100, stockConcentrationMicromolar: 10_000 })).toThrow(
      /stocked at 1000 µM with 100 µL left; a 10000 µM lot cannot share its level/,
    );
  });
});

describe('the lab file', () => {
  it('shares the lab store file: separate tables, both stores open at once', () => {
    const path = tempDbPath();
    const lab = LabStore.open(path);
    const store = openStore(path);
    try {
      store.consume(consumeInput('seed'));
      expect(lab.listOperations()).toEqual([]);
    } finally {
      lab.close();
    }
    const db = new Database(path, { readonly: true });
    try {
      const tables = (db.prepare("SELECT name FROM sqlite_master WHERE type = 'table'").all() as { name: string }[])
        .map((t) => t.name)
        .filter((n) => n.startsWith('inventory_') || n === 'operations');
      expect(tables.sort()).toEqual([
        'inventory_consumption',
        'inventory_items',
        'inventory_operations',
        'inventory_plates',
        'inventory_restocks',
        'inventory_schema',
        'operations',
      ]);
      // Every migration applied once, in order.
      expect(db.prepare('SELECT version FROM inventory_schema ORDER BY version').pluck().all()).toEqual([1, 2]);
      expect(db.pragma('journal_mode', { simple: true })).toBe('wal');
    } finally {
      db.close();
    }
  });

  it('keeps the ledger, plates and restocks append-only', () => {
    const path = tempDbPath();
    const store = openStore(path);
    store.consume(consumeInput('seed'));
    const db = new Database(path);
    try {
      for (const table of ['inventory_consumption', 'inventory_operations', 'inventory_plates', 'inventory_restocks']) {
        expect(() => db.prepare(`DELETE FROM ${table}`).run()).toThrow(/append-only/);
        expect(() => db.prepare(`UPDATE ${table} SET at = 'x'`).run()).toThrow(/append-only/);
      }
    } finally {
      db.close();
    }
  });

  it('stocks a fresh lab once; reopening never resets levels', () => {
    const path = tempDbPath();
    const store = openStore(path);
    expect(store.listItems()).toHaveLength(DEFAULT_STOCK.length);
    store.consume(consumeInput('seed'));
    expect(openStore(path).getItem('tips')?.level).toBe(4_799);
  });
});

describe('bounded stock', () => {
  it('refuses a restock beyond the bounds before anything changes, and repairs a poisoned level on open', async () => {
    const { MAX_RESTOCK_AMOUNT, MAX_STOCK_LEVEL } = await import('../../src/inventory/consumption');
    const path = tempDbPath();
    const store = openStore(path);
    const before = store.getItem('tips')!.level;
    expect(() => store.restock({ item: 'tips', amount: 1e308 })).toThrow(/positive number up to 10000000/);
    expect(() => store.restock({ item: 'tips', amount: Infinity })).toThrow(/positive number/);
    for (let i = 0; i < Math.floor(MAX_STOCK_LEVEL / MAX_RESTOCK_AMOUNT); i++)
      if (store.getItem('tips')!.level + MAX_RESTOCK_AMOUNT <= MAX_STOCK_LEVEL)
        store.restock({ item: 'tips', amount: MAX_RESTOCK_AMOUNT });
    expect(() => store.restock({ item: 'tips', amount: MAX_RESTOCK_AMOUNT })).toThrow(
      /above the most any item may hold/,
    );
    expect(store.getItem('tips')!.level).toBeLessThanOrEqual(MAX_STOCK_LEVEL);
    store.close();
    // A file written before the bounds: an infinite level is repaired to 0 when the lab opens it.
    const raw = new Database(path);
    raw.prepare("UPDATE inventory_items SET level = 9e999 WHERE item = 'tips'").run();
    raw.close();
    const reopened = openStore(path);
    try {
      expect(reopened.getItem('tips')!.level).toBe(0);
      expect(reopened.listItems().every((i) => Number.isFinite(i.level))).toBe(true);
      expect(before).toBeGreaterThan(0);
    } finally {
      reopened.close();
    }
  });
});

describe('a plate step draws its wells in one transaction', () => {
  const wellInput = (well: string, overrides: Partial<ConsumeInput> = {}): ConsumeInput => {
    const wellUses = usesOf({ ...plan, well, experimentWorkflowId: `campaign-ic50/e-${well}` });
    return {
      operationKey: `ic50-p001/seed/${well}:consume`,
      campaignId: plan.campaignId,
      experimentWorkflowId: `campaign-ic50/e-${well}`,
      use: wellUses.seed,
      ...overrides,
    };
  };

  it('draws nothing of the step when a later well runs short, and every well once the shelf is restocked', () => {
    const store = openStore(tempDbPath(), stockWith({ tips: 2 }));
    const before = levels(store);
    const wells = ['B2', 'B3', 'B4'].map((w) => wellInput(w));
    const short = fault(() => store.consumeAll(wells));
    expect(short).toBeInstanceOf(OutOfStockFault);
    expect(short.type).toBe(OUT_OF_STOCK);
    // The two wells the tips would have covered were not drawn either: the step waits as one.
    expect(levels(store)).toEqual(before);
    expect(store.ledger()).toEqual([]);
    store.restock({ item: 'tips', amount: 10 });
    const receipts = store.consumeAll(wells);
    expect(receipts.every((r) => !(r instanceof LabFault))).toBe(true);
    expect(levels(store).tips).toBe(12 - 3);
    // A retried step (the same keys) draws nothing more and gets the same receipts.
    expect(store.consumeAll(wells)).toEqual(receipts);
    expect(levels(store).tips).toBe(9);
  });

  it('refuses only the well whose draw is impossible, and draws the others', () => {
    const store = openStore(tempDbPath());
    store.consume(wellInput('B2'));
    // The same key for another well is a permanent refusal of that well alone.
    const reused = wellInput('B3', { operationKey: 'ic50-p001/seed/B2:consume' });
    const [a, b, c] = store.consumeAll([wellInput('B2'), reused, wellInput('B4')]);
    expect(a).not.toBeInstanceOf(LabFault);
    expect(b).toBeInstanceOf(LabFault);
    expect((b as LabFault).permanent).toBe(true);
    expect(c).not.toBeInstanceOf(LabFault);
    expect(new Set(store.ledger().map((e) => e.well))).toEqual(new Set(['B2', 'B4']));
  });
});
