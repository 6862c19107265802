import { z } from 'zod';
import { ASSAYS } from '../domain/types';
import { ALWAYS, ConfigError, parseWith, parseYamlText, readSettingsFile, tolerant } from './validation';

/** Largest config file we read: a campaign config is a few hundred bytes; megabytes mean a mistake. */
export const MAX_CONFIG_BYTES = 256 * 1024;
export const MAX_BATCH_SIZE = 96; // one 96-well plate per batch
/**
 * Wells one campaign may reach (maxIterations × wells per batch). Its outcomes are handed from run
 * to run in its history, about 120 bytes a well in one continue-as-new request that the server
 * limits to 2 MB (bench:history measures 10,000 wells).
 */
export const MAX_CAMPAIGN_WELLS = 15_000;
export const MAX_BUDGET_USD = 1_000_000;
/** How far beyond its configured range a pair's doses may go by default (× max, ÷ min). */
export const DEFAULT_RANGE_EXTENSION_FACTOR = 10;
/** A pair's default well cap: the standard 8-point × 3 design. */
export const DEFAULT_MAX_WELLS_PER_PAIR = 24;

const finite = z.number().finite();

export const objectiveSchema = z.discriminatedUnion('type', [
  z.strictObject({
    type: z.literal('ic50'),
    /** Stop a pair once its 95% interval on log10 IC50 is within ± this many log units. */
    halfWidthLog10: finite.positive().max(2).default(0.1),
  }),
  z.strictObject({
    type: z.literal('target'),
    /** The normalised response sought, e.g. 0.1 for the IC90. */
    response: finite.gt(0).lt(1),
    halfWidthLog10: finite.positive().max(2).default(0.1),
  }),
  z.strictObject({
    type: z.literal('selectivity'),
    killLine: z.string().min(1),
    spareLine: z.string().min(1),
    /** Response at or below which a line counts as killed, and at or above which it is spared. */
    killBelow: finite.gt(0).lt(1).default(0.3),
    spareAbove: finite.gt(0).lt(1).default(0.7),
  }),
  z.strictObject({ type: z.literal('maximize') }),
  z.strictObject({ type: z.literal('minimize') }),
]);
export type Objective = z.infer<typeof objectiveSchema>;

export { CAMPAIGN_ID_PREFIX, MAX_CAMPAIGN_ID_LENGTH } from './campaign-id';
import { CAMPAIGN_ID_PREFIX, MAX_CAMPAIGN_ID_LENGTH } from './campaign-id';
export const MAX_NAME_LENGTH = MAX_CAMPAIGN_ID_LENGTH - CAMPAIGN_ID_PREFIX.length;

const nameSchema = z
  .string()
  .regex(
    new RegExp(`^[a-z0-9][a-z0-9-]{0,${MAX_NAME_LENGTH - 1}}$`),
    `must be 1-${MAX_NAME_LENGTH} characters of lower-case letters, digits and "-", starting with a letter or digit (the campaign id campaign-<name> must fit Temporal's ${MAX_CAMPAIGN_ID_LENGTH}-character fairness key)`,
  );

/** Doses below this are below what any liquid handler can deliver into a 96-well plate. */
export const MIN_DOSE_MICROMOLAR = 1e-6;
export const MAX_DOSE_MICROMOLAR = 100_000;

const doseRangeSchema = z
  .strictObject({
    minMicromolar: finite
      .min(MIN_DOSE_MICROMOLAR, `must be a dose of at least ${MIN_DOSE_MICROMOLAR} µM (1 pM)`)
      .max(MAX_DOSE_MICROMOLAR),
    maxMicromolar: finite
      .min(MIN_DOSE_MICROMOLAR, `must be a dose of at least ${MIN_DOSE_MICROMOLAR} µM (1 pM)`)
      .max(MAX_DOSE_MICROMOLAR),
  })
  .refine((r) => r.maxMicromolar > r.minMicromolar, {
    message: 'maxMicromolar must be greater than minMicromolar',
    path: ['maxMicromolar'],
  });
export type DoseRange = z.infer<typeof doseRangeSchema>;

const lineName = z.string().min(1).max(64);
const compoundName = z.string().min(1).max(64);

export const campaignConfigSchema = z
  .strictObject({
    name: nameSchema,
    /** The design: every line × every compound, or an explicit `pairs` list (not both). */
    cellLines: z.array(lineName).min(1, 'must list at least one cell line').max(32).optional(),
    compounds: z.array(compoundName).min(1, 'must list at least one compound').max(32).optional(),
    pairs: z
      .array(z.strictObject({ cellLine: lineName, compound: compoundName, doseRange: doseRangeSchema.optional() }))
      .min(1, 'must list at least one { cellLine, compound } pair')
      .max(256)
      .optional(),
    /** The default dose range of every pair (a pair may give its own). */
    doseRange: doseRangeSchema.optional(),
    /** Wells per proposed dose (technical replicates side by side on the plate). */
    replicates: z.number().int().min(1).max(8).default(1),
    assay: z.enum(ASSAYS),
    batchSize: z.number().int().min(1).max(MAX_BATCH_SIZE),
    maxIterations: z.number().int().min(1).max(10_000),
    budgetUsd: finite.positive().max(MAX_BUDGET_USD),
    objective: z
      .preprocess((v) => (typeof v === 'string' ? { type: v } : v), objectiveSchema)
      .default({ type: 'ic50', halfWidthLog10: 0.1 }),
    /** Which learner proposes batches: the Bayesian dose-response learner, or even log-dose coverage. */
    proposer: z.enum(['space-filling', 'bayesian']).default('bayesian'),
    /**
     * The learner may extend a pair's dose range by up to this factor at either end when its IC50
     * looks to lie beyond it (default 10: up to max × 10 and min / 10, one log unit; 1: never leave
     * the range).
     */
    rangeExtensionFactor: finite.min(1).max(100).default(DEFAULT_RANGE_EXTENSION_FACTOR),
    /**
     * Treatment wells one pair may use at most (default 24, the standard 8 × 3 design); a pair that
     * reaches it stops with the interval it has and says so. Rejected wells do not count.
     */
    maxWellsPerPair: z.number().int().min(1).max(10_000).default(DEFAULT_MAX_WELLS_PER_PAIR),
    /** Seed of the learner's random choices (the lab's noise is the lab's own). */
    seed: z
      .number()
      .int()
      .min(0)
      .max(2 ** 31 - 1)
      .default(1),
    /** Real seconds per lab hour: 3600 is real time; the demo uses ~0.02. */
    secondsPerLabHour: finite.positive().max(3600).default(3600),
    /** Vehicle-control wells per cell line in every batch. */
    controlsPerLine: z.number().int().min(1).max(8).default(2),
    /** A lab step whose instrument (or lab worker) stays silent this long is retried: a hang or a crash. */
    heartbeatTimeoutSeconds: finite.min(1).max(600).default(30),
    /** Temporal priority key: 1 (highest) .. 5 (lowest). Changeable while running (`cellos priority`). */
    priority: z.number().int().min(1).max(5).default(3),
    /** "required": every proposed batch waits for a person's `cellos approve` or `cellos reject`. */
    approval: z.enum(['none', 'required']).default('none'),
    /** Wait for a person to confirm loading each plate into the incubator (`cellos confirm`). */
    manualPlateLoading: z.boolean().default(false),
    /** The campaign pauses itself when more than this share of experiments fail (a person is needed). */
    failurePause: z
      .strictObject({
        maxFailureRate: finite.gt(0).max(1).default(0.3),
        minExperiments: z.number().int().min(1).max(10_000).default(10),
      })
      .default({ maxFailureRate: 0.3, minExperiments: 10 }),
    /** Webhooks told when the campaign ends, needs a person, pauses itself, waits too long or fails. */
    notifications: z
      .strictObject({
        webhooks: z
          .array(
            z.strictObject({
              url: z.url({ protocol: /^https?$/, error: 'must be an http(s) URL' }),
              format: z.enum(['json', 'slack']).default('json'),
            }),
          )
          .max(10)
          .default([]),
        /** Tell the webhooks when wells have waited this long for stock or an offline instrument. */
        waitAlertMinutes: finite
          .positive()
          .max(7 * 24 * 60)
          .default(30),
      })
      .optional(),
    protocol: z
      .strictObject({
        attachmentHours: finite.min(1).max(72).default(4),
        treatmentHours: finite.min(1).max(168).optional(),
      })
      .default({ attachmentHours: 4 }),
  })
  .superRefine(
    tolerant((c, ctx) => {
      const issue = (path: (string | number)[], input: unknown, message: string) =>
        ctx.addIssue({ code: 'custom', path, input, message });
      if (c.pairs && (c.cellLines || c.compounds))
        issue(
          ['pairs'],
          undefined,
          'give either cellLines and compounds (every line × every compound) or a pairs list, not both',
        );
      if (!c.pairs && !(c.cellLines && c.compounds)) {
        if (!c.cellLines) issue(['cellLines'], undefined, 'must list the cell lines (or give a pairs list instead)');
        if (!c.compounds) issue(['compounds'], undefined, 'must list the compounds (or give a pairs list instead)');
      }
      if (!c.doseRange) {
        const missing = (c.pairs ?? []).findIndex((p) => !p.doseRange);
        if (!c.pairs || missing >= 0)
          issue(
            c.pairs ? ['pairs', missing, 'doseRange'] : ['doseRange'],
            undefined,
            'needs a dose range { minMicromolar, maxMicromolar }: give doseRange for the campaign or one for each pair',
          );
      }
      for (const [field, list] of [
        ['cellLines', c.cellLines ?? []],
        ['compounds', c.compounds ?? []],
      ] as const) {
        const seen = new Set<string>();
        list.forEach((v, i) => {
          if (seen.has(v)) issue([field, i], v, `"${v}" is listed twice`);
          seen.add(v);
        });
      }
      const seenPairs = new Set<string>();
      (c.pairs ?? []).forEach((p, i) => {
        const key = `${p.cellLine} × ${p.compound}`;
        if (seenPairs.has(key)) issue(['pairs', i], key, `${key} is listed twice`);
        seenPairs.add(key);
      });
      const lines = new Set(c.pairs ? c.pairs.map((p) => p.cellLine) : c.cellLines);
      const controls = c.controlsPerLine * Math.min(lines.size, c.batchSize);
      const wellsPerBatch = c.batchSize * c.replicates + controls;
      if (wellsPerBatch > MAX_BATCH_SIZE)
        issue(
          ['batchSize'],
          c.batchSize,
          `a batch is one ${MAX_BATCH_SIZE}-well plate: batchSize × ${c.replicates} replicate(s) plus ${c.controlsPerLine} vehicle control(s) per cell line must fit (${wellsPerBatch} wells needed); allowed: at most ${Math.floor((MAX_BATCH_SIZE - controls) / c.replicates)}`,
        );
      else if (c.maxIterations * wellsPerBatch > MAX_CAMPAIGN_WELLS)
        issue(
          ['maxIterations'],
          c.maxIterations,
          `${c.maxIterations} batches of up to ${wellsPerBatch} wells could reach ${c.maxIterations * wellsPerBatch} wells; a campaign holds at most ${MAX_CAMPAIGN_WELLS} (its outcomes travel in its history); allowed: at most ${Math.floor(MAX_CAMPAIGN_WELLS / wellsPerBatch)}`,
        );
      if (c.objective.type === 'selectivity') {
        for (const key of ['killLine', 'spareLine'] as const) {
          const line = c.objective[key];
          if (!lines.has(line))
            issue(['objective', key], line, `must be one of the campaign's cell lines: ${[...lines].join(', ')}`);
        }
      }
    }),
    ALWAYS,
  );

export type CampaignConfigInput = z.input<typeof campaignConfigSchema>;
type ParsedConfig = z.infer<typeof campaignConfigSchema>;

/** One (cell line, compound) question of a campaign, with the doses it may use. */
export interface CampaignPair {
  cellLine: string;
  compound: string;
  doseRange: DoseRange;
}

/**
 * A validated campaign config: only what a scientist writes and the lab must be told. The design is
 * resolved into its pairs (a cross product or the explicit list), and `cellLines` / `compounds`
 * list the names the pairs use, in order of first use. No lab-profile values live here.
 */
export interface CampaignConfig extends Omit<
  ParsedConfig,
  'protocol' | 'pairs' | 'cellLines' | 'compounds' | 'doseRange'
> {
  /** How the scientist wrote the design: `cellLines` × `compounds`, or a `pairs` list. */
  design: 'cross' | 'pairs';
  pairs: CampaignPair[];
  /** Indexes of pairs that gave their own dose range (for error messages). */
  pairsWithOwnRange: number[];
  cellLines: string[];
  compounds: string[];
  /** The widest range over the pairs (the learner's default). */
  doseRange: DoseRange;
  protocol: { attachmentHours: number; treatmentHours: number };
}

export function defaultTreatmentHours(assay: CampaignConfig['assay']): number {
  return assay === 'imaging' ? 48 : 24;
}

/** Validate a config object and resolve its design into pairs. Names are checked against the lab at start. */
export function resolveCampaignConfig(raw: unknown, source: string): CampaignConfig {
  if (raw !== null && typeof raw === 'object' && 'labProfile' in raw)
    throw new ConfigError(source, [
      {
        field: 'labProfile',
        value: (raw as { labProfile: unknown }).labProfile,
        message:
          "a lab profile is the lab worker's configuration, not the campaign's: start the lab worker with `npm run worker:lab -- --profile FILE` (or CELLOS_LAB_PROFILE), or run `npm run demo -- <config.yaml> --lab-profile FILE`",
      },
    ]);
  const parsed = parseWith(campaignConfigSchema, raw, source);
  const { pairs: listed, cellLines, compounds, doseRange, ...rest } = parsed;
  const pairs: CampaignPair[] = listed
    ? listed.map((p) => ({ cellLine: p.cellLine, compound: p.compound, doseRange: (p.doseRange ?? doseRange)! }))
    : cellLines!.flatMap((cellLine) => compounds!.map((compound) => ({ cellLine, compound, doseRange: doseRange! })));
  const unique = (names: string[]) => [...new Set(names)];
  return {
    ...rest,
    design: listed ? 'pairs' : 'cross',
    pairs,
    pairsWithOwnRange: (listed ?? []).flatMap((p, i) => (p.doseRange ? [i] : [])),
    cellLines: unique(pairs.map((p) => p.cellLine)),
    compounds: unique(pairs.map((p) => p.compound)),
    doseRange: {
      minMicromolar: Math.min(...pairs.map((p) => p.doseRange.minMicromolar)),
      maxMicromolar: Math.max(...pairs.map((p) => p.doseRange.maxMicromolar)),
    },
    protocol: {
      attachmentHours: parsed.protocol.attachmentHours,
      treatmentHours: parsed.protocol.treatmentHours ?? defaultTreatmentHours(parsed.assay),
    },
  };
}

/** Parse YAML text into a validated config. */
export function parseCampaignYaml(text: string, source: string): CampaignConfig {
  if (Buffer.byteLength(text, 'utf8') > MAX_CONFIG_BYTES) {
    throw new ConfigError(source, [
      {
        field: '(file)',
        value: undefined,
        message: `file is larger than ${MAX_CONFIG_BYTES / 1024} KiB; a campaign config is a few kilobytes`,
      },
    ]);
  }
  const raw = parseYamlText(text, source);
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) {
    throw new ConfigError(source, [
      { field: '(top level)', value: raw, message: 'must be a YAML mapping of campaign settings' },
    ]);
  }
  return resolveCampaignConfig(raw, source);
}

export function loadCampaignConfigFile(path: string): CampaignConfig {
  const text = readSettingsFile(path, { field: '(file)', what: 'config file', maxBytes: MAX_CONFIG_BYTES });
  return parseCampaignYaml(text, path);
}
