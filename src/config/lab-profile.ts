import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { BUILTIN_LAB_PROFILE } from './builtin-lab-profile';
import { INSTRUMENTS } from './lab-config';
import { ConfigError, parseWith } from './validation';

/**
 * A lab profile is the ground truth of the virtual lab: how each cell line grows and how it
 * responds to each compound. A user's profile adds or overrides entries of the built-in one, so
 * they can simulate their own compounds. A (line, compound) pair with no IC50 is refused rather
 * than given a made-up default.
 */

const positive = z.number().finite().positive();
const fraction = z.number().finite().min(0).max(1);

export const cellLineBiologySchema = z.strictObject({
  doublingHours: positive.max(1000),
  maxConfluence: fraction.refine((v) => v > 0, 'must be above 0'),
  countCv: fraction,
  viabilityCv: fraction,
  bioCv: fraction,
});
export type CellLineBiology = z.infer<typeof cellLineBiologySchema>;

export const compoundBiologySchema = z.strictObject({
  hillSlope: z.number().finite().min(0.1).max(10),
  /** IC50 per cell line, µM. */
  ic50Micromolar: z.record(z.string().min(1), positive),
  /** Surviving fraction at saturating dose (incomplete kill, e.g. paclitaxel ~0.2-0.5). */
  bottom: fraction.default(0),
  top: fraction.default(1),
  molecularWeight: positive.default(500),
  usdPerMg: z.number().finite().min(0).default(5),
});
export type CompoundBiology = z.infer<typeof compoundBiologySchema>;

const milliseconds = z.number().finite().min(0).max(3_600_000);
/** A probability capped below 1 where a retry could otherwise never succeed. */
const rateUpTo = (max: number) => z.number().finite().min(0).max(max);

/**
 * Faults of one instrument, per operation attempt that uses it (a dropped plate: per plate and
 * step). Transient errors, latency spikes, hangs and outages cost time and retries, never results;
 * a dropped plate fails every well on it. Rates stay below 1 where a retry could never succeed.
 */
export const instrumentFaultsSchema = z.strictObject({
  transientErrorRate: rateUpTo(0.9).default(0),
  latencySpikeRate: fraction.default(0),
  latencySpikeMs: milliseconds.default(2_000),
  /** The instrument stops answering (no heartbeat) for hangMs; the attempt is retried after the heartbeat timeout. */
  hangRate: rateUpTo(0.9).default(0),
  hangMs: milliseconds.default(60_000),
  /** The instrument goes offline for offlineSeconds; experiments wait for it on timers. */
  offlineRate: rateUpTo(0.5).default(0),
  offlineSeconds: z.number().finite().min(0).max(86_400).default(30),
  plateDropRate: fraction.default(0),
});
export type InstrumentFaults = z.infer<typeof instrumentFaultsSchema>;

export const labProfileSchema = z.strictObject({
  name: z.string().min(1).default('custom'),
  /** If true (default), entries extend/override the built-in profile; if false, the profile stands alone. */
  extendsBuiltin: z.boolean().default(true),
  cellLines: z.record(z.string().min(1), cellLineBiologySchema).default({}),
  compounds: z.record(z.string().min(1), compoundBiologySchema).default({}),
  /** Fault injection for the virtual lab; all off by default. */
  faults: z
    .strictObject({
      contaminationRate: fraction.default(0),
      /** Transient errors on every instrument, per operation attempt. */
      transientErrorRate: fraction.max(0.9).default(0),
      /** Per instrument ("liquid-handler", "incubator", "plate-reader", "imager"). */
      instruments: z.partialRecord(z.enum(INSTRUMENTS), instrumentFaultsSchema).optional(),
    })
    .default({ contaminationRate: 0, transientErrorRate: 0 }),
});
export type LabProfile = z.infer<typeof labProfileSchema>;

export function builtinLabProfile(): LabProfile {
  return parseWith(labProfileSchema, BUILTIN_LAB_PROFILE, 'built-in lab profile');
}

/** Parse a profile YAML text and merge it over the built-in one (unless `extendsBuiltin: false`). */
export function parseLabProfile(yamlText: string, source: string): LabProfile {
  let raw: unknown;
  try {
    raw = parseYaml(yamlText);
  } catch (err) {
    throw new ConfigError(source, [
      { field: '(file)', value: undefined, message: `not valid YAML: ${(err as Error).message}` },
    ]);
  }
  const own = parseWith(labProfileSchema, raw ?? {}, source);
  if (!own.extendsBuiltin) return own;
  const base = builtinLabProfile();
  const compounds: LabProfile['compounds'] = { ...base.compounds };
  for (const [name, c] of Object.entries(own.compounds)) {
    const prior = compounds[name];
    compounds[name] = prior ? { ...c, ic50Micromolar: { ...prior.ic50Micromolar, ...c.ic50Micromolar } } : c;
  }
  return {
    name: own.name,
    extendsBuiltin: true,
    cellLines: { ...base.cellLines, ...own.cellLines },
    compounds,
    faults: own.faults,
  };
}

/** The IC50 for a pair, or undefined when the profile does not define it (the caller refuses). */
export function pairIc50(profile: LabProfile, cellLine: string, compound: string): number | undefined {
  return profile.compounds[compound]?.ic50Micromolar[cellLine];
}
