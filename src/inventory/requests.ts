import { z } from 'zod';
import { parseWith } from '../config/validation';
import { MAX_RESTOCK_AMOUNT } from './consumption';
import type { CampaignCost } from './ledger';
import type { InventoryItem } from './stock-levels';

/**
 * What people ask of the stockroom and what it answers, shared by the CLI (which checks a restock
 * before sending it), the stockroom workflow's messages and the inventory activities.
 */

/** Amounts typed on a command line arrive as text: "960" is read as 960, "lots" stays text and is refused. */
const numeric = (schema: z.ZodNumber) =>
  z.preprocess((v) => (typeof v === 'string' && v.trim() !== '' && Number.isFinite(Number(v)) ? Number(v) : v), schema);

export const restockRequestSchema = z.strictObject({
  item: z.string().trim().min(1, 'must name an item, e.g. "tips" or "staurosporine"'),
  amount: numeric(
    z
      .number()
      .finite()
      .positive("must be a positive amount in the item's unit (e.g. 960 tips, 500 mL of DMEM, 200 µL of a compound)")
      .max(MAX_RESTOCK_AMOUNT, `must be at most ${MAX_RESTOCK_AMOUNT} in the item's unit`),
  ),
  lot: z.string().trim().min(1, 'must not be empty when given').max(64).optional(),
  stockConcentrationMicromolar: numeric(
    z.number().finite().positive('must be a positive concentration in µM (10 mM = 10000)'),
  ).optional(),
  requestId: z.string().min(1).max(200).optional(),
});
export type RestockRequest = z.input<typeof restockRequestSchema>;

/** Validate a restock request; throws a ConfigError naming each bad field, its value and what is allowed. */
export function parseRestockRequest(input: unknown): z.output<typeof restockRequestSchema> {
  return parseWith(restockRequestSchema, input, 'restock request');
}

export interface ItemLevel extends InventoryItem {
  /** At or below the item's reorder level. */
  low: boolean;
}

export interface InventoryReport {
  generatedAt: string;
  items: ItemLevel[];
  /** Usage and cost per campaign, with each experiment's share. */
  campaigns: CampaignCost[];
  /** Everything the reported campaigns consumed, USD. */
  totalUsd: number;
}
