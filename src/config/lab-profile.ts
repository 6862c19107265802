import { z } from 'zod';
import { BUILTIN_LAB_PROFILE } from './builtin-lab-profile';
import { INSTRUMENTS } from './lab-config';
import { ConfigError, parseWith, parseYamlText, readSettingsFile } from './validation';

/**
 * A lab profile is the ground truth of the virtual lab: how each cell line grows, how it responds
 * to each compound, what stock the lab keeps and what goes wrong. It is the lab worker's
 * configuration (`npm run worker:lab -- --profile FILE` or CELLOS_LAB_PROFILE) and never enters a
 * workflow: orchestration sees only what a real lab would publish (names, stock, prices). A
 * user's profile adds or overrides entries of the built-in one. A (line, compound) pair with no
 * curve is refused by the lab rather than given a made-up default.
 */

/** The treatment length at which a user's profile values hold unless it says otherwise. */
export const DEFAULT_REFERENCE_HOURS = 72;
/** Largest lab-profile file read: a profile is a few kilobytes; megabytes mean a mistake. */
export const MAX_PROFILE_BYTES = 1024 * 1024;

const positive = z.number().finite().positive();
const fraction = z.number().finite().min(0).max(1);

/** Physical ranges: mammalian lines double in 8 h (fastest) to 1000 h (near-quiescent). */
const cv = z.number().finite().min(0).max(0.5);
export const cellLineBiologySchema = z.strictObject({
  doublingHours: z.number().finite().min(8).max(1000),
  maxConfluence: z.number().finite().min(0.05).max(1),
  countCv: cv,
  viabilityCv: cv,
  bioCv: cv,
});
export type CellLineBiology = z.infer<typeof cellLineBiologySchema>;

/** A (line, compound) response; absent fields fall back to the compound's, then the profile's. */
export const pairResponseSchema = z.strictObject({
  ic50Micromolar: positive.max(1e7),
  hillSlope: z.number().finite().min(0.1).max(10).optional(),
  bottom: fraction.optional(),
  top: fraction.optional(),
  referenceHours: positive.max(336).optional(),
});

/** The stock a lab keeps of a compound: what a fresh lab file starts with. */
export const compoundStockSchema = z.strictObject({
  concentrationMicromolar: positive.max(10_000_000).default(10_000),
  microlitres: positive.max(1_000_000).default(1_000),
  lot: z.string().min(1).max(64).optional(),
  solvent: z.string().min(1).max(64).default('DMSO'),
});

export const compoundBiologySchema = z
  .strictObject({
    /** Compound-level defaults for every line's curve. */
    hillSlope: z.number().finite().min(0.1).max(10).default(1),
    /** Surviving fraction at saturating dose (incomplete kill, e.g. paclitaxel ~0.2-0.5). */
    bottom: fraction.default(0),
    top: fraction.default(1),
    /** Treatment hours at which this compound's values hold (default: the profile's referenceHours). */
    referenceHours: positive.max(336).optional(),
    /** Shorthand: IC50 per cell line, µM, with the compound's slope and plateaus. */
    ic50Micromolar: z.record(z.string().min(1), positive.max(1e7)).default({}),
    /** Full per-line curves (override the shorthand and the compound's defaults). */
    responses: z.record(z.string().min(1), pairResponseSchema).default({}),
    molecularWeight: positive.max(100_000).default(500),
    usdPerMg: z.number().finite().min(0).max(1_000_000).default(5),
    stock: compoundStockSchema.default({ concentrationMicromolar: 10_000, microlitres: 1_000, solvent: 'DMSO' }),
  })
  .superRefine((c, ctx) => {
    const plateaus = (where: (string | number)[], bottom: number, top: number) => {
      if (bottom >= top)
        ctx.addIssue({
          code: 'custom',
          path: where,
          input: bottom,
          message: `bottom (${bottom}) must be below top (${top}): the surviving fraction at saturating dose is less than with no compound`,
        });
    };
    plateaus(['bottom'], c.bottom, c.top);
    for (const [line, r] of Object.entries(c.responses))
      plateaus(['responses', line, 'bottom'], r.bottom ?? c.bottom, r.top ?? c.top);
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
  name: z.string().min(1).max(128).default('custom'),
  /** If true (default), entries extend/override the built-in profile; if false, the profile stands alone. */
  extendsBuiltin: z.boolean().default(true),
  /**
   * The treatment length (lab hours) at which the profile's IC50s, slopes and plateaus hold. The
   * virtual lab reproduces them at this treatment time and shifts them with other times, as real
   * assays do (longer treatments look more potent).
   */
  referenceHours: positive.max(336).default(DEFAULT_REFERENCE_HOURS),
  /** Seed of the virtual lab's random streams (pipetting, biology, instrument noise). */
  noiseSeed: z
    .number()
    .int()
    .min(0)
    .max(2 ** 31 - 1)
    .default(1),
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
type ParsedLabProfile = z.infer<typeof labProfileSchema>;

/** A (line, compound) curve with every field resolved: what the virtual lab simulates. */
export interface PairResponse {
  ic50Micromolar: number;
  hillSlope: number;
  top: number;
  bottom: number;
  /** Treatment hours at which these values hold. */
  referenceHours: number;
}

export interface CompoundEntry {
  molecularWeight: number;
  usdPerMg: number;
  stock: { concentrationMicromolar: number; microlitres: number; lot: string; solvent: string };
  /** Per cell line. A line missing here has no response model: the lab refuses the pair. */
  responses: Record<string, PairResponse>;
}

/** A resolved lab profile: the virtual lab's whole world, held by the lab worker only. */
export interface LabProfile {
  name: string;
  noiseSeed: number;
  cellLines: Record<string, CellLineBiology>;
  compounds: Record<string, CompoundEntry>;
  faults: ParsedLabProfile['faults'];
}

function resolveCompounds(parsed: ParsedLabProfile): Record<string, CompoundEntry> {
  const out: Record<string, CompoundEntry> = {};
  for (const [name, c] of Object.entries(parsed.compounds)) {
    const referenceHours = c.referenceHours ?? parsed.referenceHours;
    const responses: Record<string, PairResponse> = {};
    const base = { hillSlope: c.hillSlope, top: c.top, bottom: c.bottom, referenceHours };
    for (const [line, ic50Micromolar] of Object.entries(c.ic50Micromolar))
      responses[line] = { ...base, ic50Micromolar };
    for (const [line, r] of Object.entries(c.responses))
      responses[line] = {
        ic50Micromolar: r.ic50Micromolar,
        hillSlope: r.hillSlope ?? c.hillSlope,
        top: r.top ?? c.top,
        bottom: r.bottom ?? c.bottom,
        referenceHours: r.referenceHours ?? referenceHours,
      };
    out[name] = {
      molecularWeight: c.molecularWeight,
      usdPerMg: c.usdPerMg,
      stock: {
        concentrationMicromolar: c.stock.concentrationMicromolar,
        microlitres: c.stock.microlitres,
        lot: c.stock.lot ?? `${name.toUpperCase().slice(0, 12)}-0001`,
        solvent: c.stock.solvent,
      },
      responses,
    };
  }
  return out;
}

function resolve(parsed: ParsedLabProfile): LabProfile {
  return {
    name: parsed.name,
    noiseSeed: parsed.noiseSeed,
    cellLines: parsed.cellLines,
    compounds: resolveCompounds(parsed),
    faults: parsed.faults,
  };
}

export function builtinLabProfile(): LabProfile {
  return resolve(parseWith(labProfileSchema, BUILTIN_LAB_PROFILE, 'built-in lab profile'));
}

/**
 * Parse a profile YAML text and merge it over the built-in one (unless `extendsBuiltin: false`).
 * Merging is per (line, compound) curve, each keeping the reference time it was stated at.
 */
export function parseLabProfile(yamlText: string, source: string): LabProfile {
  const raw = parseYamlText(yamlText, source);
  if (raw !== null && raw !== undefined && (typeof raw !== 'object' || Array.isArray(raw)))
    throw new ConfigError(source, [
      { field: '(top level)', value: typeof raw, message: 'must be a YAML mapping of lab-profile settings' },
    ]);
  const parsed = parseWith(labProfileSchema, raw ?? {}, source);
  const own = resolve(parsed);
  if (!parsed.extendsBuiltin) return own;
  const base = builtinLabProfile();
  const compounds: LabProfile['compounds'] = { ...base.compounds };
  for (const [name, c] of Object.entries(own.compounds)) {
    const prior = compounds[name];
    compounds[name] = prior ? { ...c, responses: { ...prior.responses, ...c.responses } } : c;
  }
  return {
    name: own.name,
    noiseSeed: own.noiseSeed,
    cellLines: { ...base.cellLines, ...own.cellLines },
    compounds,
    faults: own.faults,
  };
}

/**
 * Read a lab profile from a file, refusing what is not a regular file of a sensible size (a FIFO
 * would hang, /dev/zero would never end); errors never echo the file's contents.
 */
export function loadLabProfileFile(path: string): LabProfile {
  const text = readSettingsFile(path, { field: 'labProfile', what: 'lab profile', maxBytes: MAX_PROFILE_BYTES });
  return parseLabProfile(text, path);
}

/** The lab worker's profile: `--profile FILE`, else CELLOS_LAB_PROFILE, else the built-in one. */
export function labProfileFromArgs(argv: string[], env = process.env): { profile: LabProfile; source: string } {
  const i = argv.indexOf('--profile');
  const path = i >= 0 ? argv[i + 1] : env.CELLOS_LAB_PROFILE;
  if (i >= 0 && !path) throw new Error('--profile needs the path of a lab-profile YAML file');
  if (!path || path === 'builtin') return { profile: builtinLabProfile(), source: 'built-in profile' };
  return { profile: loadLabProfileFile(path), source: path };
}

/** The curve for a pair, or undefined when the profile does not define it (the lab refuses). */
export function pairResponse(profile: LabProfile, cellLine: string, compound: string): PairResponse | undefined {
  return profile.compounds[compound]?.responses[cellLine];
}
