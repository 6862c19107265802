import fc from 'fast-check';
import { stringify } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startCampaign } from '../../src/client/campaign-client';
import { type CampaignConfig } from '../../src/config/campaign-config';
import { openTestEnv, withWorkers, type TemporalTestEnv } from '../helpers/temporal-env';
import { runArgv, runConfig, runProfile, type Verdict } from './edge-pipeline';

/**
 * A generated bad-input run: FUZZ_RUNS (default 1,000) campaign configs, lab profiles and `cellos`
 * argument lists each, from one seed (FUZZ_SEED, printed; the same seed replays the same inputs).
 * Most are valid inputs with a few fields mutated into hostile values (wrong types, NaN, ±∞,
 * subnormals, huge, empty, unicode, unknown keys), some are broken YAML. Every input must end as a
 * clean rejection naming a field or as an acceptance that parses and checks; never a crash, an
 * unexpected exception, a stack trace or a hang (over HANG_MS). Three accepted configs also run
 * end to end on the test server.
 */
const SEED = Number(process.env.FUZZ_SEED ?? Math.floor(Math.random() * 2 ** 31));
const RUNS = Number(process.env.FUZZ_RUNS ?? 1_000);
const HANG_MS = 2_000;

// --- Hostile values and mutations ---

const hostile = fc.oneof(
  fc.constantFrom<unknown>(
    0,
    -0,
    -1,
    1,
    0.5,
    1e-9,
    5e-324,
    2.4e-319,
    1e308,
    Number.POSITIVE_INFINITY,
    Number.NEGATIVE_INFINITY,
    Number.NaN,
    2 ** 31,
    2 ** 53 + 1,
    55,
    56,
    63,
    64,
    65,
    96,
    97,
    '',
    ' ',
    'NaN',
    '1e308',
    '-5',
    'x'.repeat(56),
    'x'.repeat(300),
    'ünïcode',
    '=HYPERLINK("x")',
    '../../etc/passwd',
    null,
    true,
    false,
    [],
    {},
    [1, 2],
    { nested: { deeper: 1 } },
  ),
  fc.double(),
  fc.integer(),
  fc.string({ maxLength: 70 }),
  fc.boolean(),
);

type Json = Record<string, unknown>;
const clone = <T>(v: T): T => structuredClone(v);

function setPath(target: Json, path: string[], value: unknown, remove: boolean): void {
  let node: unknown = target;
  for (const key of path.slice(0, -1)) {
    if (typeof node !== 'object' || node === null) return;
    const next = (node as Json)[key];
    if (typeof next !== 'object' || next === null) (node as Json)[key] = {};
    node = (node as Json)[key];
  }
  if (typeof node !== 'object' || node === null) return;
  const last = path[path.length - 1]!;
  if (remove) delete (node as Json)[last];
  else (node as Json)[last] = value;
}

/** Mostly 1-4 mutations, a quarter none (set a path to a hostile value, or delete it), then YAML text, sometimes mangled. */
function mutated(base: fc.Arbitrary<Json>, paths: string[][]): fc.Arbitrary<string> {
  const mutation = fc.record({
    path: fc.oneof(fc.constantFrom(...paths), fc.constant(['unknownKey'])),
    value: hostile,
    remove: fc.integer({ min: 0, max: 4 }).map((n) => n === 0),
  });
  return fc
    .tuple(
      base,
      fc.oneof(
        { arbitrary: fc.constant([]), weight: 1 },
        { arbitrary: fc.array(mutation, { minLength: 1, maxLength: 4 }), weight: 3 },
      ),
      fc.nat({ max: 19 }),
      fc.string({ maxLength: 12 }),
      fc.nat(),
    )
    .map(([object, mutations, mangle, junk, at]) => {
      const o = clone(object);
      for (const m of mutations) setPath(o, [...m.path], m.value, m.remove);
      const text = stringify(o);
      if (mangle === 0) return text.slice(0, at % (text.length + 1)); // truncated
      if (mangle === 1) {
        const i = at % (text.length + 1);
        return text.slice(0, i) + junk + text.slice(i); // stray characters
      }
      return text;
    });
}

const LINES = ['U2OS', 'HEK293T', 'HeLa', 'A549', 'HepG2', 'Jurkat'];
const COMPOUNDS = ['staurosporine', 'tunicamycin', 'doxorubicin', 'cisplatin', 'paclitaxel', 'H2O2'];

const validConfig: fc.Arbitrary<Json> = fc
  .record({
    name: fc.stringMatching(/^[a-z][a-z0-9-]{0,30}$/),
    // Mostly pairs the built-in lab can run (so acceptances are common), sometimes any line × compound.
    cellLines: fc.oneof(
      { arbitrary: fc.uniqueArray(fc.constantFrom('U2OS', 'HEK293T'), { minLength: 1, maxLength: 2 }), weight: 3 },
      { arbitrary: fc.uniqueArray(fc.constantFrom(...LINES), { minLength: 1, maxLength: 3 }), weight: 1 },
    ),
    compounds: fc.oneof(
      {
        arbitrary: fc.uniqueArray(fc.constantFrom('staurosporine', 'tunicamycin'), { minLength: 1, maxLength: 2 }),
        weight: 3,
      },
      { arbitrary: fc.uniqueArray(fc.constantFrom(...COMPOUNDS), { minLength: 1, maxLength: 3 }), weight: 1 },
    ),
    min: fc.double({ min: 1e-4, max: 1, noNaN: true }),
    span: fc.double({ min: 2, max: 50, noNaN: true }),
    assay: fc.constantFrom('viability', 'reporter', 'imaging'),
    batchSize: fc.integer({ min: 1, max: 48 }),
    maxIterations: fc.integer({ min: 1, max: 20 }),
    budgetUsd: fc.double({ min: 1, max: 10_000, noNaN: true }),
    objective: fc.constantFrom('ic50', 'maximize', 'minimize'),
    proposer: fc.constantFrom('bayesian', 'space-filling'),
    seed: fc.integer({ min: 0, max: 1_000_000 }),
    secondsPerLabHour: fc.double({ min: 0.001, max: 10, noNaN: true }),
    controlsPerLine: fc.integer({ min: 1, max: 4 }),
    priority: fc.integer({ min: 1, max: 5 }),
  })
  .map(({ min, span, ...c }) => ({ ...c, doseRange: { minMicromolar: min, maxMicromolar: min * span } }));

const CONFIG_PATHS = [
  ['name'],
  ['cellLines'],
  ['cellLines', '0'],
  ['compounds'],
  ['compounds', '0'],
  ['doseRange'],
  ['doseRange', 'minMicromolar'],
  ['doseRange', 'maxMicromolar'],
  ['assay'],
  ['batchSize'],
  ['maxIterations'],
  ['budgetUsd'],
  ['objective'],
  ['proposer'],
  ['seed'],
  ['secondsPerLabHour'],
  ['controlsPerLine'],
  ['replicates'],
  ['rangeExtensionFactor'],
  ['heartbeatTimeoutSeconds'],
  ['priority'],
  ['approval'],
  ['manualPlateLoading'],
  ['failurePause', 'maxFailureRate'],
  ['failurePause', 'minExperiments'],
  ['protocol', 'attachmentHours'],
  ['protocol', 'treatmentHours'],
  ['pairs'],
];

const validProfile: fc.Arbitrary<Json> = fc
  .record({
    name: fc.string({ minLength: 1, maxLength: 20 }),
    extendsBuiltin: fc.boolean(),
    doublingHours: fc.double({ min: 8, max: 1000, noNaN: true }),
    maxConfluence: fc.double({ min: 0.05, max: 1, noNaN: true }),
    cv: fc.double({ min: 0, max: 0.5, noNaN: true }),
    ic50: fc.double({ min: 1e-3, max: 1e4, noNaN: true }),
    hillSlope: fc.double({ min: 0.1, max: 10, noNaN: true }),
    bottom: fc.double({ min: 0, max: 0.5, noNaN: true }),
    top: fc.double({ min: 0.6, max: 1, noNaN: true }),
    stock: fc.double({ min: 1, max: 1e6, noNaN: true }),
  })
  .map((p) => ({
    name: p.name,
    extendsBuiltin: p.extendsBuiltin,
    cellLines: {
      FUZZ1: {
        doublingHours: p.doublingHours,
        maxConfluence: p.maxConfluence,
        countCv: p.cv,
        viabilityCv: p.cv,
        bioCv: p.cv,
      },
    },
    compounds: {
      fuzzamycin: {
        hillSlope: p.hillSlope,
        bottom: p.bottom,
        top: p.top,
        ic50Micromolar: { FUZZ1: p.ic50 },
        responses: { FUZZ1: { ic50Micromolar: p.ic50 * 2, bottom: p.bottom } },
        stock: { concentrationMicromolar: p.stock, microlitres: 500 },
      },
    },
    faults: { contaminationRate: 0, transientErrorRate: 0 },
  }));

const PROFILE_PATHS = [
  ['name'],
  ['extendsBuiltin'],
  ['referenceHours'],
  ['noiseSeed'],
  ['cellLines'],
  ['cellLines', 'FUZZ1'],
  ['cellLines', 'FUZZ1', 'doublingHours'],
  ['cellLines', 'FUZZ1', 'maxConfluence'],
  ['cellLines', 'FUZZ1', 'countCv'],
  ['cellLines', 'FUZZ1', 'bioCv'],
  ['compounds', 'fuzzamycin', 'hillSlope'],
  ['compounds', 'fuzzamycin', 'bottom'],
  ['compounds', 'fuzzamycin', 'top'],
  ['compounds', 'fuzzamycin', 'ic50Micromolar', 'FUZZ1'],
  ['compounds', 'fuzzamycin', 'responses', 'FUZZ1', 'ic50Micromolar'],
  ['compounds', 'fuzzamycin', 'responses', 'FUZZ1', 'top'],
  ['compounds', 'fuzzamycin', 'molecularWeight'],
  ['compounds', 'fuzzamycin', 'usdPerMg'],
  ['compounds', 'fuzzamycin', 'stock', 'concentrationMicromolar'],
  ['compounds', 'fuzzamycin', 'stock', 'microlitres'],
  ['faults', 'contaminationRate'],
  ['faults', 'transientErrorRate'],
  ['faults', 'instruments', 'imager', 'hangRate'],
  ['faults', 'instruments', 'imager', 'offlineSeconds'],
];

const ARG_WORDS = fc.oneof(
  fc.constantFrom(
    'start',
    'status',
    'pause',
    'resume',
    'budget',
    'stop',
    'results',
    'report',
    'list',
    'approve',
    'reject',
    'confirm',
    'priority',
    'inventory',
    'restock',
    'schedule',
    'create',
    'delete',
    'help',
    'examples/demo.yaml',
    'examples/panel.yaml',
    'missing.yaml',
    '/dev/zero',
    'package.json',
    'campaign-demo',
    'tips',
    'DMSO',
    'staurosporine',
    '10',
    '1e308',
    '-1',
    '0',
    '3',
    '2.5',
    'NaN',
    '',
    'x'.repeat(65),
    'x'.repeat(201),
    '2027-02-30T08:00:00Z',
    '2026-12-03T08:00:00',
    '2027-01-01T00:00:00Z',
    '0 2 * * *',
    'not a cron',
  ),
  fc.string({ maxLength: 20 }),
);
const FLAGS = fc.constantFrom(
  '--json',
  '--csv',
  '--id',
  '--at',
  '--reason',
  '--lot',
  '--concentration',
  '--key',
  '--wait',
  '--campaign',
  '--out',
  '--cron',
  '--verbose',
  '-h',
  '--',
);
const argv: fc.Arbitrary<string[]> = fc
  .tuple(
    fc.constantFrom(
      'start',
      'status',
      'budget',
      'priority',
      'restock',
      'inventory',
      'schedule',
      'reject',
      'stop',
      'list',
    ),
    fc.array(fc.oneof(ARG_WORDS, FLAGS), { maxLength: 7 }),
  )
  .map(([command, rest]) => [command, ...rest]);

// --- The run ---

interface Tally {
  generated: number;
  rejected: number;
  accepted: number;
  crashes: { input: unknown; error: string }[];
  hangs: { input: unknown; ms: number }[];
}

function tally<T>(inputs: T[], run: (input: T) => Verdict): Tally & { acceptedConfigs: CampaignConfig[] } {
  const t: Tally & { acceptedConfigs: CampaignConfig[] } = {
    generated: inputs.length,
    rejected: 0,
    accepted: 0,
    crashes: [],
    hangs: [],
    acceptedConfigs: [],
  };
  for (const input of inputs) {
    const started = performance.now();
    const verdict = run(input);
    const ms = performance.now() - started;
    if (ms > HANG_MS) t.hangs.push({ input, ms });
    if (verdict.kind === 'crash') t.crashes.push({ input, error: verdict.error.split('\n').slice(0, 3).join(' | ') });
    else if (verdict.kind === 'rejected') t.rejected++;
    else {
      t.accepted++;
      if (verdict.config) t.acceptedConfigs.push(verdict.config);
    }
  }
  return t;
}

function report(what: string, t: Tally): string {
  return `${what}: generated ${t.generated}, rejected cleanly ${t.rejected}, accepted ${t.accepted}, crashes ${t.crashes.length}, hangs ${t.hangs.length}`;
}

const results: Record<string, Tally & { acceptedConfigs: CampaignConfig[] }> = {};

describe(`generated bad input (FUZZ_SEED=${SEED}, ${RUNS} of each)`, () => {
  beforeAll(() => {
    console.log(`fuzz seed ${SEED}: rerun with FUZZ_SEED=${SEED} to replay exactly these inputs`);
  });

  it('campaign configs: parse and lab check never crash; every rejection names a field', () => {
    const inputs = fc.sample(mutated(validConfig, CONFIG_PATHS), { seed: SEED, numRuns: RUNS });
    results.configs = tally(inputs, (text) => runConfig(text));
    console.log(report('configs', results.configs));
    expect(results.configs.crashes.slice(0, 5)).toEqual([]);
    expect(results.configs.hangs).toEqual([]);
    expect(results.configs.generated).toBeGreaterThanOrEqual(RUNS);
    // The generator reaches both sides: a fuzz run that rejected (or accepted) everything tests little.
    expect(results.configs.accepted).toBeGreaterThan(RUNS / 10);
    expect(results.configs.rejected).toBeGreaterThan(RUNS / 4);
  });

  it('lab profiles: parse, catalogue and curves never crash; every rejection names a field', () => {
    const inputs = fc.sample(mutated(validProfile, PROFILE_PATHS), { seed: SEED + 1, numRuns: RUNS });
    results.profiles = tally(inputs, (text) => runProfile(text));
    console.log(report('profiles', results.profiles));
    expect(results.profiles.crashes.slice(0, 5)).toEqual([]);
    expect(results.profiles.hangs).toEqual([]);
    expect(results.profiles.accepted).toBeGreaterThan(RUNS / 10);
    expect(results.profiles.rejected).toBeGreaterThan(RUNS / 4);
  });

  it('cellos argument lists: every local check refuses cleanly or accepts; never a crash', () => {
    const inputs = fc.sample(argv, { seed: SEED + 2, numRuns: RUNS });
    results.argv = tally(inputs, (args) => runArgv(args));
    console.log(report('argv', results.argv));
    expect(results.argv.crashes.slice(0, 5)).toEqual([]);
    expect(results.argv.hangs).toEqual([]);
    expect(results.argv.accepted).toBeGreaterThan(RUNS / 50);
  });

  afterAll(() => {
    const all = Object.values(results);
    const sum = (f: (t: Tally) => number) => all.reduce((s, t) => s + f(t), 0);
    console.log(
      `fuzz total (seed ${SEED}): generated ${sum((t) => t.generated)}, rejected cleanly ${sum((t) => t.rejected)}, ` +
        `accepted ${sum((t) => t.accepted)}, crashes ${sum((t) => t.crashes.length)}, hangs ${sum((t) => t.hangs.length)}`,
    );
  });
});

describe('accepted generated configs run end to end', () => {
  let env: TemporalTestEnv;
  beforeAll(async () => {
    env = await openTestEnv();
  }, 60_000);
  afterAll(async () => {
    await env?.close();
  });

  it('three accepted configs start, run one batch and end without a crash', async () => {
    const inputs = fc.sample(mutated(validConfig, CONFIG_PATHS), { seed: SEED, numRuns: RUNS });
    const accepted = inputs.flatMap((text) => {
      const v = runConfig(text);
      return v.kind === 'accepted' && v.config ? [v.config] : [];
    });
    // Small ones, on a fast clock: one batch each, so three campaigns take seconds.
    const sample = accepted
      .filter((c) => c.batchSize <= 12 && c.cellLines.length * c.compounds.length <= 4 && c.budgetUsd >= 50)
      .slice(0, 3)
      .map((c, i): CampaignConfig => ({
        ...c,
        name: `${c.name.slice(0, 40)}-fz${i}`,
        maxIterations: 1,
        secondsPerLabHour: 0.01,
      }));
    expect(sample).toHaveLength(3);
    await withWorkers(env, async (lab) => {
      for (const config of sample) {
        const handle = await startCampaign({ client: env.client, ...lab }, config, `campaign-${config.name}`);
        const results = await handle.result();
        console.log(
          `end to end: ${config.name} (${config.assay}, ${config.batchSize} wells, $${config.budgetUsd.toFixed(2)}): ${results.status.state}, ${results.outcomes.length} wells`,
        );
        expect(['completed', 'goal reached']).toContain(results.status.state);
        expect(results.outcomes.length).toBeGreaterThan(0);
        expect(results.outcomes.every((o) => o.status === 'succeeded')).toBe(true);
      }
    });
  }, 240_000);
});
