import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BUILTIN_LAB_PROFILE } from '../../src/config/builtin-lab-profile';
import type { CompoundPricing } from '../../src/domain/costs';
import type { Assay } from '../../src/domain/types';
import type { ItemDefinition, StepUse } from '../../src/inventory/consumption';
import { DEFAULT_STOCK } from '../../src/inventory/default-stock';
import { type ConsumptionReceipt, InventoryStore } from '../../src/inventory/inventory-store';

/** Shared set-up for the inventory tests: temp lab files, stock with chosen levels, one-call experiments. */

export function tempDbPath(): string {
  return join(mkdtempSync(join(tmpdir(), 'cellos-inventory-test-')), 'nested', 'lab.db');
}

const open: InventoryStore[] = [];

/** Opens a store that closeAll() will close (call it in afterEach). */
export function openStore(path: string, initialStock: readonly ItemDefinition[] = DEFAULT_STOCK): InventoryStore {
  const store = InventoryStore.open(path, { initialStock });
  open.push(store);
  return store;
}

export function closeAll(): void {
  for (const store of open.splice(0)) store.close();
}

/** The default stock with some levels changed, e.g. `{ tips: 2 }`. */
export function stockWith(levels: Record<string, number>): ItemDefinition[] {
  return DEFAULT_STOCK.map((d) => (d.item in levels ? { ...d, level: levels[d.item] as number } : d));
}

export function pricingOf(compound: keyof typeof BUILTIN_LAB_PROFILE.compounds): CompoundPricing {
  const { molecularWeight, usdPerMg } = BUILTIN_LAB_PROFILE.compounds[compound];
  return { molecularWeight, usdPerMg };
}

export interface ExperimentPlan {
  campaignId: string;
  experimentWorkflowId: string;
  plateId: string;
  well: string;
  /** '' for a vehicle control. */
  compound: string;
  doseMicromolar: number;
  assay: Assay;
  compoundPricing?: CompoundPricing;
}

/** The three step uses of one experiment, as the lab activities describe them. */
export function usesOf(plan: ExperimentPlan): { seed: StepUse; dose: StepUse; measure: StepUse } {
  const location = { plateId: plan.plateId, well: plan.well };
  return {
    seed: { step: 'seed', location, assay: plan.assay, volumeMicrolitres: 100 },
    dose: {
      step: 'dose',
      location,
      compound: plan.compound,
      doseMicromolar: plan.doseMicromolar,
      volumeMicrolitres: 10,
      compoundPricing: plan.compoundPricing,
    },
    measure: { step: 'measure', location, assay: plan.assay },
  };
}

/** Consumes all three steps of an experiment under keys "<experiment>/<step>". */
export function consumeExperiment(store: InventoryStore, plan: ExperimentPlan): ConsumptionReceipt[] {
  const uses = usesOf(plan);
  return (['seed', 'dose', 'measure'] as const).map((step) =>
    store.consume({
      operationKey: `${plan.experimentWorkflowId}/${step}`,
      campaignId: plan.campaignId,
      experimentWorkflowId: plan.experimentWorkflowId,
      use: uses[step],
    }),
  );
}
