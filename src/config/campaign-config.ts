import { readFileSync, statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { ASSAYS } from '../domain/types';
import { builtinLabProfile, parseLabProfile, type LabProfile } from './lab-profile';
import { ConfigError, type ConfigProblem, parseWith } from './validation';

/** Largest config file we read: a campaign config is a few hundred bytes; megabytes mean a mistake. */
export const MAX_CONFIG_BYTES = 256 * 1024;
export const MAX_BATCH_SIZE = 96; // one 96-well plate per batch
export const MAX_BUDGET_USD = 1_000_000;

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

const nameSchema = z
  .string()
  .regex(
    /^[a-z0-9][a-z0-9-]{0,62}$/,
    'must be 1-63 characters of lower-case letters, digits and "-", starting with a letter or digit',
  );

export const campaignConfigSchema = z
  .strictObject({
    name: nameSchema,
    cellLines: z.array(z.string().min(1)).min(1, 'must list at least one cell line').max(32),
    compounds: z.array(z.string().min(1)).min(1, 'must list at least one compound').max(32),
    doseRange: z
      .strictObject({
        minMicromolar: finite.positive('must be a positive dose in µM'),
        maxMicromolar: finite.positive('must be a positive dose in µM').max(100_000),
      })
      .refine((r) => r.maxMicromolar > r.minMicromolar, {
        message: 'maxMicromolar must be greater than minMicromolar',
        path: ['maxMicromolar'],
      }),
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
     * The learner may extend the dose range by up to this factor at either end when an IC50 looks to
     * lie beyond it (1: never leave the range; 3.16: half a log).
     */
    rangeExtensionFactor: finite.min(1).max(100).default(1),
    seed: z
      .number()
      .int()
      .min(0)
      .max(2 ** 31 - 1)
      .default(1),
    /** Path to a lab profile YAML (relative to the config file), or "builtin". */
    labProfile: z.string().min(1).default('builtin'),
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
    protocol: z
      .strictObject({
        attachmentHours: finite.min(1).max(72).default(4),
        treatmentHours: finite.min(1).max(168).optional(),
      })
      .default({ attachmentHours: 4 }),
  })
  .superRefine((c, ctx) => {
    const wellsPerBatch = c.batchSize + c.controlsPerLine * Math.min(c.cellLines.length, c.batchSize);
    if (wellsPerBatch > MAX_BATCH_SIZE) {
      ctx.addIssue({
        code: 'custom',
        path: ['batchSize'],
        input: c.batchSize,
        message: `a batch is one ${MAX_BATCH_SIZE}-well plate: batchSize plus ${c.controlsPerLine} vehicle control(s) per cell line must fit (${wellsPerBatch} wells needed); allowed: at most ${MAX_BATCH_SIZE - c.controlsPerLine * Math.min(c.cellLines.length, c.batchSize)}`,
      });
    }
    for (const [field, list] of [
      ['cellLines', c.cellLines],
      ['compounds', c.compounds],
    ] as const) {
      const seen = new Set<string>();
      list.forEach((v, i) => {
        if (seen.has(v))
          ctx.addIssue({ code: 'custom', path: [field, i], message: `"${v}" is listed twice`, input: v });
        seen.add(v);
      });
    }
  });

export type CampaignConfigInput = z.input<typeof campaignConfigSchema>;
type ParsedConfig = z.infer<typeof campaignConfigSchema>;

/** A validated campaign config with its lab profile resolved inline (workers need no files). */
export interface CampaignConfig extends Omit<ParsedConfig, 'labProfile' | 'protocol'> {
  labProfile: LabProfile;
  protocol: { attachmentHours: number; treatmentHours: number };
}

export function defaultTreatmentHours(assay: CampaignConfig['assay']): number {
  return assay === 'imaging' ? 48 : 24;
}

/**
 * Validate a config object, resolve its lab profile, and check every (line, compound) pair is
 * defined by the profile. `baseDir` resolves a relative labProfile path.
 */
export function resolveCampaignConfig(raw: unknown, source: string, baseDir = process.cwd()): CampaignConfig {
  const parsed = parseWith(campaignConfigSchema, raw, source);
  const labProfile = loadProfile(parsed.labProfile, baseDir, source);
  const problems: ConfigProblem[] = [];
  const knownLines = Object.keys(labProfile.cellLines);
  const knownCompounds = Object.keys(labProfile.compounds);
  parsed.cellLines.forEach((line, i) => {
    if (!labProfile.cellLines[line])
      problems.push({
        field: `cellLines[${i}]`,
        value: line,
        message: `unknown cell line; known: ${knownLines.join(', ')}`,
      });
  });
  parsed.compounds.forEach((c, i) => {
    if (!labProfile.compounds[c])
      problems.push({
        field: `compounds[${i}]`,
        value: c,
        message: `unknown compound; known: ${knownCompounds.join(', ')}`,
      });
  });
  if (problems.length === 0) {
    for (const c of parsed.compounds) {
      for (const line of parsed.cellLines) {
        if (labProfile.compounds[c]?.ic50Micromolar[line] === undefined)
          problems.push({
            field: 'labProfile',
            value: `${line} × ${c}`,
            message: `the lab profile "${labProfile.name}" has no IC50 for this pair; add compounds.${c}.ic50Micromolar.${line} to a lab profile`,
          });
      }
    }
  }
  if (parsed.objective.type === 'selectivity') {
    for (const key of ['killLine', 'spareLine'] as const) {
      const line = parsed.objective[key];
      if (!parsed.cellLines.includes(line))
        problems.push({
          field: `objective.${key}`,
          value: line,
          message: `must be one of cellLines: ${parsed.cellLines.join(', ')}`,
        });
    }
  }
  if (problems.length > 0) throw new ConfigError(source, problems);
  return {
    ...parsed,
    labProfile,
    protocol: {
      attachmentHours: parsed.protocol.attachmentHours,
      treatmentHours: parsed.protocol.treatmentHours ?? defaultTreatmentHours(parsed.assay),
    },
  };
}

function loadProfile(ref: string, baseDir: string, source: string): LabProfile {
  if (ref === 'builtin') return builtinLabProfile();
  const path = resolve(baseDir, ref);
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new ConfigError(source, [
      {
        field: 'labProfile',
        value: ref,
        message: `cannot read the lab profile file (${(err as NodeJS.ErrnoException).code ?? 'error'}); give a path to a YAML file or "builtin"`,
      },
    ]);
  }
  return parseLabProfile(text, path);
}

/** Parse YAML text into a validated config. */
export function parseCampaignYaml(text: string, source: string, baseDir?: string): CampaignConfig {
  if (Buffer.byteLength(text, 'utf8') > MAX_CONFIG_BYTES) {
    throw new ConfigError(source, [
      {
        field: '(file)',
        value: undefined,
        message: `file is larger than ${MAX_CONFIG_BYTES / 1024} KiB; a campaign config is a few hundred bytes`,
      },
    ]);
  }
  let raw: unknown;
  try {
    raw = parseYaml(text, { maxAliasCount: 100 });
  } catch (err) {
    throw new ConfigError(source, [
      { field: '(file)', value: undefined, message: `not valid YAML: ${(err as Error).message.split('\n')[0]}` },
    ]);
  }
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) {
    throw new ConfigError(source, [
      { field: '(top level)', value: raw, message: 'must be a YAML mapping of campaign settings' },
    ]);
  }
  return resolveCampaignConfig(raw, source, baseDir);
}

export function loadCampaignConfigFile(path: string): CampaignConfig {
  let size: number;
  try {
    const stat = statSync(path);
    if (!stat.isFile()) throw Object.assign(new Error('not a file'), { code: 'not a file' });
    size = stat.size;
  } catch (err) {
    throw new ConfigError(path, [
      {
        field: '(file)',
        value: path,
        message: `cannot read the config file (${(err as NodeJS.ErrnoException).code ?? 'error'})`,
      },
    ]);
  }
  if (size > MAX_CONFIG_BYTES) {
    throw new ConfigError(path, [
      {
        field: '(file)',
        value: `${size} bytes`,
        message: `file is larger than ${MAX_CONFIG_BYTES / 1024} KiB; a campaign config is a few hundred bytes`,
      },
    ]);
  }
  return parseCampaignYaml(readFileSync(path, 'utf8'), path, dirname(resolve(path)));
}
