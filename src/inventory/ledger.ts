import { WELLS_PER_PLATE } from '../domain/costs';
import { COST_CATEGORIES, type CostCategory, round9, type Step } from './consumption';

/**
 * Cost breakdowns from the consumption ledger, per campaign and per experiment. Pure: the
 * inventory store hands over its rows, the CLI and campaign status show the result.
 *
 * Plates are the one thing consumed by a plate, not by a well. A campaign pays for every plate it
 * opened, whole; each experiment is charged its well's share (price / 96), as the one cost model
 * (../domain/costs.ts) charges it, so an experiment's ledger cost equals its cost in `results`,
 * and the wells a batch left empty show up at campaign level as `unusedWells` and
 * `unusedPlateWellsUsd`, exactly as campaignSpend() shows them in `status`.
 */

/** One row of the consumption ledger: one item (or instrument) used by one operation. */
export interface LedgerEntry {
  operationKey: string;
  step: Step;
  item: string;
  category: CostCategory;
  campaignId: string;
  experimentWorkflowId: string;
  plateId: string;
  well: string;
  quantity: number;
  unit: string;
  unitCostUsd: number;
  costUsd: number;
  /** Lot the item was drawn from; absent for instrument time. */
  lot?: string;
  at: string;
}

export type CategoryTotals = Record<CostCategory, number>;

export interface CostBreakdown {
  totalUsd: number;
  byCategory: CategoryTotals;
}

export interface ExperimentCost extends CostBreakdown {
  experimentWorkflowId: string;
  campaignId: string;
  /** Steps that consumed something, in the order they were recorded. */
  steps: Step[];
}

export interface ItemUsage {
  item: string;
  category: CostCategory;
  quantity: number;
  unit: string;
  costUsd: number;
}

export interface CampaignCost extends CostBreakdown {
  campaignId: string;
  /** What the campaign used, item by item (instrument time included, in seconds). */
  items: ItemUsage[];
  experiments: ExperimentCost[];
  platesOpened: number;
  /** Wells of the plates it opened that no experiment was seeded in. */
  unusedWells: number;
  /** Plates paid for but not filled: the campaign total minus what its experiments were charged. */
  unusedPlateWellsUsd: number;
}

export function emptyCategoryTotals(): CategoryTotals {
  return Object.fromEntries(COST_CATEGORIES.map((c) => [c, 0])) as CategoryTotals;
}

/** What these entries cost in all, by category, with plates counted whole. */
export function totalCost(entries: readonly LedgerEntry[]): CostBreakdown {
  const byCategory = emptyCategoryTotals();
  for (const e of entries) byCategory[e.category] += e.costUsd;
  return finish(byCategory);
}

/**
 * Each experiment's cost by category, plates charged per well. Pass every entry of the campaigns
 * concerned (not one experiment's alone): the plate's price is on the entry of whichever
 * experiment opened it.
 */
export function experimentCosts(entries: readonly LedgerEntry[]): ExperimentCost[] {
  const platePrice = new Map<string, number>();
  for (const e of entries) if (e.category === 'plates') platePrice.set(e.plateId, e.unitCostUsd);
  const byExperiment = new Map<string, { campaignId: string; byCategory: CategoryTotals; steps: Step[] }>();
  for (const e of entries) {
    let acc = byExperiment.get(e.experimentWorkflowId);
    if (!acc) {
      acc = { campaignId: e.campaignId, byCategory: emptyCategoryTotals(), steps: [] };
      byExperiment.set(e.experimentWorkflowId, acc);
    }
    if (!acc.steps.includes(e.step)) {
      acc.steps.push(e.step);
      // The well's share of its plate, charged with its seed whoever opened the plate.
      if (e.step === 'seed') acc.byCategory.plates += (platePrice.get(e.plateId) ?? 0) / WELLS_PER_PLATE;
    }
    if (e.category !== 'plates') acc.byCategory[e.category] += e.costUsd;
  }
  return [...byExperiment].map(([experimentWorkflowId, acc]) => ({
    experimentWorkflowId,
    campaignId: acc.campaignId,
    steps: acc.steps,
    ...finish(acc.byCategory),
  }));
}

/** Per campaign: total by category (plates whole), item usage, and each experiment's share. */
export function campaignCosts(entries: readonly LedgerEntry[]): CampaignCost[] {
  const experiments = experimentCosts(entries);
  const campaigns = [...new Set(entries.map((e) => e.campaignId))];
  return campaigns.map((campaignId) => {
    const own = entries.filter((e) => e.campaignId === campaignId);
    const total = totalCost(own);
    const ownExperiments = experiments.filter((x) => x.campaignId === campaignId);
    const charged = ownExperiments.reduce((s, x) => s + x.totalUsd, 0);
    const platesOpened = own.filter((e) => e.category === 'plates').reduce((n, e) => n + e.quantity, 0);
    const seeded = new Set(own.filter((e) => e.step === 'seed').map((e) => `${e.plateId}/${e.well}`));
    return {
      campaignId,
      ...total,
      items: itemUsage(own),
      experiments: ownExperiments,
      platesOpened,
      unusedWells: Math.max(0, platesOpened * WELLS_PER_PLATE - seeded.size),
      unusedPlateWellsUsd: round6(Math.max(0, total.totalUsd - charged)),
    };
  });
}

/** Quantities and cost per item, in order of first use. */
export function itemUsage(entries: readonly LedgerEntry[]): ItemUsage[] {
  const usage = new Map<string, ItemUsage>();
  for (const e of entries) {
    const u = usage.get(e.item) ?? { item: e.item, category: e.category, quantity: 0, unit: e.unit, costUsd: 0 };
    u.quantity += e.quantity;
    u.costUsd += e.costUsd;
    usage.set(e.item, u);
  }
  return [...usage.values()].map((u) => ({ ...u, quantity: round9(u.quantity), costUsd: round6(u.costUsd) }));
}

/** One line for a person: "$12.34: plates $4.00 · tips $1.62 · …" (categories that cost nothing left out). */
export function formatBreakdown(breakdown: CostBreakdown): string {
  const parts = COST_CATEGORIES.filter((c) => breakdown.byCategory[c] > 0).map(
    (c) => `${c} $${breakdown.byCategory[c].toFixed(2)}`,
  );
  return `$${breakdown.totalUsd.toFixed(2)}${parts.length ? `: ${parts.join(' · ')}` : ''}`;
}

function finish(byCategory: CategoryTotals): CostBreakdown {
  let total = 0;
  for (const c of COST_CATEGORIES) {
    total += byCategory[c];
    byCategory[c] = round6(byCategory[c]);
  }
  return { totalUsd: round6(total), byCategory };
}

function round6(usd: number): number {
  return Math.round(usd * 1e6) / 1e6;
}
