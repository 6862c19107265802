import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseCampaignYaml } from '../../src/config/campaign-config';
import { parseLabProfile } from '../../src/config/lab-profile';
import type { CampaignResults } from '../../src/domain/campaign-status';
import type { ExperimentOutcome, Ic50Value, Observation, PairEstimate } from '../../src/domain/types';
import { createBayesianProposer, selectivityWindows } from '../../src/learner/bayesian/index';
import type { ProposerSettings } from '../../src/learner/proposer';
import { openBenchLab, readText } from './lab-run';
import { doseForResponse, pairTruth, responseAt, type PairTruth, type Protocol } from './truth';

/**
 * `npm run bench:panel`: the learner on real campaigns. A public panel of 8 pairs (bench/panel/
 * panel.yaml, truths in panel-lab.yaml) runs as one campaign per seed on a dev server, through the
 * count-level virtual lab (the lab worker's profile, noiseSeed = the seed). Prints each pair's
 * truth at the protocol's treatment time (relative and absolute IC50, each against its own truth),
 * the estimate, its 95% interval, whether the truth is inside, the wells and the state; then the
 * totals against the targets, PASS/FAIL; writes bench/results/panel.json.
 * Options: --seeds 1,2,3.
 */

const here = dirname(fileURLToPath(import.meta.url));
const seeds = (argValue('seeds') ?? '1,2,3').split(',').map(Number);
const SELECTIVITY = { killLine: 'HeLa', spareLine: 'RPE-1', compound: 'doxorubicin', killBelow: 0.3, spareAbove: 0.7 };
const ROLE: Record<string, string> = {
  'HeLa|paclitaxel': 'partial responder',
  'A549|cisplatin': 'shallow slope',
  'U2OS|staurosporine': 'steep slope',
  'Jurkat|staurosporine': 'IC50 near the bottom',
  'HEK293T|cisplatin': 'just beyond the top',
  'HEK293T|H2O2': 'inactive',
  'HeLa|doxorubicin': 'selectivity: kill',
  'RPE-1|doxorubicin': 'selectivity: spare',
};
const INACTIVE = 'HEK293T|H2O2';
const BEYOND_TOP = 'HEK293T|cisplatin';

function argValue(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

const key = (e: { cellLine: string; compound: string }) => `${e.cellLine}|${e.compound}`;

function observation(o: ExperimentOutcome): Observation {
  return {
    cellLine: o.proposal.cellLine,
    compound: o.proposal.compound,
    doseMicromolar: o.proposal.doseMicromolar,
    response: o.normalisedResponse!,
    plateId: o.location.plateId,
    iteration: o.iteration,
  };
}

/** The learner's inputs after iteration k, exactly as the campaign handed them over for batch k+1. */
function inputAfter(results: CampaignResults, settings: ProposerSettings, k: number, objective = settings.objective) {
  const known = results.outcomes.filter((o) => o.iteration <= k);
  const usable = (o: ExperimentOutcome) => o.status === 'succeeded' && o.normalisedResponse !== undefined;
  return {
    settings: { ...settings, objective },
    observations: known.filter((o) => !o.proposal.isControl && usable(o)).map(observation),
    controlObservations: known.filter((o) => o.proposal.isControl && usable(o)).map(observation),
    triedDoses: known
      .filter((o) => !o.proposal.isControl)
      .map((o) => ({
        cellLine: o.proposal.cellLine,
        compound: o.proposal.compound,
        doseMicromolar: o.proposal.doseMicromolar,
      })),
    iteration: k + 1,
    maxTreatments: 0,
    idPrefix: 'bench',
  };
}

function inside(v: Ic50Value | undefined, truthLog10: number | null): boolean {
  if (!v) return false;
  if (truthLog10 === null) return v.highMicromolar === null; // never reaches 50%: only an open interval holds it
  const lo = v.lowMicromolar === null ? -Infinity : Math.log10(v.lowMicromolar);
  const hi = v.highMicromolar === null ? Infinity : Math.log10(v.highMicromolar);
  return truthLog10 >= lo && truthLog10 <= hi;
}

function fmt(v: number | null | undefined): string {
  if (v === null || v === undefined) return '-';
  return Number(v.toPrecision(3)).toString();
}
function showValue(v: Ic50Value | undefined): { est: string; ci: string } {
  if (!v) return { est: '-', ci: '-' };
  const ci =
    v.lowMicromolar !== null && v.highMicromolar !== null
      ? `${fmt(v.lowMicromolar)}–${fmt(v.highMicromolar)}`
      : v.lowMicromolar !== null
        ? `> ${fmt(v.lowMicromolar)}`
        : v.highMicromolar !== null
          ? `< ${fmt(v.highMicromolar)}`
          : 'unbounded';
  return { est: fmt(v.micromolar), ci };
}

interface PairRow {
  pair: string;
  role: string;
  truth: { relativeMicromolar: number; absoluteMicromolar: number | null };
  relative?: Ic50Value;
  absolute?: Ic50Value;
  relativeInside: boolean;
  absoluteInside: boolean;
  relativeAbsLog10Error: number | null;
  absoluteAbsLog10Error: number | null;
  wells: number;
  state: string;
  outOfRange?: string;
  stopReason?: string;
  /** Wells the pair had when it was first flagged out of range / declared inactive (null: never). */
  wellsWhenFlaggedOutOfRange: number | null;
  wellsWhenDeclaredInactive: number | null;
}

interface SeedResult {
  seed: number;
  campaignState: string;
  detail: string;
  iterations: number;
  treatmentWells: number;
  spentUsd: number;
  seconds: number;
  pairs: PairRow[];
  selectivity: {
    trueKillEdgeMicromolar: number | null;
    trueSpareEdgeMicromolar: number | null;
    killEdge?: { median: number; lo: number; hi: number };
    spareEdge?: { median: number; lo: number; hi: number };
    probWindowExists?: number;
    contains: boolean;
  };
}

function analyseSeed(
  seed: number,
  results: CampaignResults,
  truths: Map<string, PairTruth>,
  trueEdges: { kill: number | null; spare: number | null },
  seconds: number,
): SeedResult {
  const settings = results.status.learnerSettings!;
  const learner = createBayesianProposer();
  const n = results.status.iteration;
  const history: PairEstimate[][] = [];
  for (let k = 1; k <= n; k++) history.push(learner.propose(inputAfter(results, settings, k)).estimates);
  const firstWells = (pair: string, pred: (e: PairEstimate) => boolean): number | null => {
    for (const estimates of history) {
      const e = estimates.find((x) => key(x) === pair);
      if (e && pred(e)) return e.wells;
    }
    return null;
  };
  const pairs: PairRow[] = results.status.estimates.map((e) => {
    const t = truths.get(key(e))!;
    const err = (v: Ic50Value | undefined, truth: number | null) =>
      v?.micromolar != null && truth !== null ? Math.abs(Math.log10(v.micromolar) - truth) : null;
    return {
      pair: `${e.cellLine} × ${e.compound}`,
      role: ROLE[key(e)] ?? '',
      truth: {
        relativeMicromolar: 10 ** t.relativeLog10,
        absoluteMicromolar: t.absoluteLog10 === null ? null : 10 ** t.absoluteLog10,
      },
      ...(e.relativeIc50 ? { relative: e.relativeIc50 } : {}),
      ...(e.absoluteIc50 ? { absolute: e.absoluteIc50 } : {}),
      relativeInside: inside(e.relativeIc50, t.relativeLog10),
      absoluteInside: inside(e.absoluteIc50, t.absoluteLog10),
      relativeAbsLog10Error: err(e.relativeIc50, t.relativeLog10),
      absoluteAbsLog10Error: err(e.absoluteIc50, t.absoluteLog10),
      wells: e.wells,
      state: e.state,
      ...(e.outOfRange ? { outOfRange: e.outOfRange } : {}),
      ...(e.stopReason ? { stopReason: e.stopReason } : {}),
      wellsWhenFlaggedOutOfRange: firstWells(key(e), (x) => x.outOfRange !== undefined),
      wellsWhenDeclaredInactive: firstWells(key(e), (x) => x.state === 'inactive'),
    };
  });
  const objective = { type: 'selectivity' as const, ...SELECTIVITY };
  const windows = selectivityWindows(learner.analyse(inputAfter(results, settings, n, objective)), objective);
  const w = windows.find((x) => x.compound === SELECTIVITY.compound);
  const holds = (iv: { lo: number; hi: number } | undefined, t: number | null) =>
    iv !== undefined && t !== null && t >= iv.lo && t <= iv.hi;
  return {
    seed,
    campaignState: results.status.state,
    detail: results.status.detail,
    iterations: n,
    treatmentWells: results.outcomes.filter((o) => !o.proposal.isControl).length,
    spentUsd: results.status.spentUsd,
    seconds,
    pairs,
    selectivity: {
      trueKillEdgeMicromolar: trueEdges.kill === null ? null : 10 ** trueEdges.kill,
      trueSpareEdgeMicromolar: trueEdges.spare === null ? null : 10 ** trueEdges.spare,
      ...(w
        ? {
            killEdge: { median: 10 ** w.killEdge.median, lo: 10 ** w.killEdge.lo, hi: 10 ** w.killEdge.hi },
            spareEdge: { median: 10 ** w.spareEdge.median, lo: 10 ** w.spareEdge.lo, hi: 10 ** w.spareEdge.hi },
            probWindowExists: w.probWindowExists,
          }
        : {}),
      contains: holds(w?.killEdge, trueEdges.kill) && holds(w?.spareEdge, trueEdges.spare),
    },
  };
}

function table(headers: string[], rows: string[][]): string {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (r: string[]) =>
    r
      .map((c, i) => c.padEnd(widths[i]!))
      .join('  ')
      .trimEnd();
  return [line(headers), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)].join('\n');
}

function printSeed(r: SeedResult): void {
  console.log(
    `\nseed ${r.seed}: ${r.campaignState} after ${r.iterations} iterations, ${r.treatmentWells} treatment wells, $${r.spentUsd.toFixed(2)}, ${r.seconds.toFixed(0)} s\n  ${r.detail}`,
  );
  const rows = r.pairs.map((p) => {
    const rel = showValue(p.relative);
    const abs = showValue(p.absolute);
    return [
      p.pair,
      p.role,
      fmt(p.truth.relativeMicromolar),
      rel.est,
      rel.ci,
      p.relativeInside ? 'yes' : 'NO',
      p.truth.absoluteMicromolar === null ? 'none' : fmt(p.truth.absoluteMicromolar),
      abs.est,
      abs.ci,
      p.absoluteInside ? 'yes' : 'NO',
      String(p.wells),
      p.state + (p.outOfRange && p.state !== 'inactive' ? ` (${p.outOfRange})` : ''),
      p.wellsWhenFlaggedOutOfRange === null ? '' : `oor@${p.wellsWhenFlaggedOutOfRange}`,
    ];
  });
  console.log(
    table(
      [
        'pair',
        'role',
        'rel truth µM',
        'rel est',
        'rel 95%',
        'in?',
        'abs truth µM',
        'abs est',
        'abs 95%',
        'in?',
        'wells',
        'state',
        'flag',
      ],
      rows,
    ),
  );
  const s = r.selectivity;
  console.log(
    `  selectivity (${SELECTIVITY.compound}: ${SELECTIVITY.killLine} ≤ ${SELECTIVITY.killBelow}, ${SELECTIVITY.spareLine} ≥ ${SELECTIVITY.spareAbove}): true window ${fmt(s.trueKillEdgeMicromolar)}–${fmt(s.trueSpareEdgeMicromolar)} µM; ` +
      (s.killEdge && s.spareEdge
        ? `kill edge ${fmt(s.killEdge.median)} [${fmt(s.killEdge.lo)}, ${fmt(s.killEdge.hi)}], spare edge ${fmt(s.spareEdge.median)} [${fmt(s.spareEdge.lo)}, ${fmt(s.spareEdge.hi)}], P(window) ${fmt(s.probWindowExists)}`
        : 'no estimate') +
      `; true edges inside: ${s.contains ? 'yes' : 'NO'}`,
  );
}

function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b);
  if (s.length === 0) return NaN;
  const h = (s.length - 1) / 2;
  return (s[Math.floor(h)]! + s[Math.ceil(h)]!) / 2;
}

async function main(): Promise<void> {
  const t0 = Date.now();
  const baseConfig = parseCampaignYaml(readText(join(here, 'panel.yaml')), 'bench/panel/panel.yaml');
  const profileText = readText(join(here, 'panel-lab.yaml'));
  const baseProfile = parseLabProfile(profileText, 'bench/panel/panel-lab.yaml');
  const protocol: Protocol = { ...baseConfig.protocol, cellsSeeded: 10_000 };
  const truths = new Map(
    baseConfig.pairs.map((p) => [key(p), pairTruth(baseProfile, p.cellLine, p.compound, protocol)]),
  );
  const centre = Math.log10(truths.get(`${SELECTIVITY.killLine}|${SELECTIVITY.compound}`)!.stated.ic50Micromolar);
  const trueEdges = {
    kill: doseForResponse(
      (x) => responseAt(baseProfile, SELECTIVITY.killLine, SELECTIVITY.compound, protocol, x),
      centre,
      SELECTIVITY.killBelow,
    ),
    spare: doseForResponse(
      (x) => responseAt(baseProfile, SELECTIVITY.spareLine, SELECTIVITY.compound, protocol, x),
      centre,
      SELECTIVITY.spareAbove,
    ),
  };
  const lab = await openBenchLab((s) => console.log(s));
  let seedResults: SeedResult[];
  try {
    // Seeds run side by side: each on its own lab file and task queues.
    seedResults = await Promise.all(
      seeds.map(async (seed) => {
        // A fixed name per seed: the lab's noise is keyed by noiseSeed, campaign name and plate, so a rerun reads the same numbers.
        const config = { ...baseConfig, name: `bench-panel-s${seed}` };
        const profile = { ...baseProfile, noiseSeed: seed };
        const ts = Date.now();
        const results = await lab.run(config, profile, `s${seed}-${Date.now().toString(36)}`);
        const seconds = (Date.now() - ts) / 1000;
        console.log(`seed ${seed} finished in ${seconds.toFixed(0)} s`);
        return analyseSeed(seed, results, truths, trueEdges, seconds);
      }),
    );
  } finally {
    await lab.close();
  }
  for (const r of seedResults) printSeed(r);

  const pairsN = baseConfig.pairs.length;
  const wellLimit = (24 * pairsN) / 3;
  const errors = seedResults.flatMap((r) =>
    r.pairs.flatMap((p) => (p.relativeAbsLog10Error === null ? [] : [p.relativeAbsLog10Error])),
  );
  const absErrors = seedResults.flatMap((r) =>
    r.pairs.flatMap((p) => (p.absoluteAbsLog10Error === null ? [] : [p.absoluteAbsLog10Error])),
  );
  const pairOf = (r: SeedResult, k: string) => r.pairs.find((p) => p.pair === k.replace('|', ' × '))!;
  const targets = [
    {
      name: `at least 7 of ${pairsN} relative-IC50 truths inside their 95% intervals in every seed`,
      holds: seedResults.every((r) => r.pairs.filter((p) => p.relativeInside).length >= 7),
      detail: seedResults
        .map(
          (r) =>
            `seed ${r.seed}: ${r.pairs.filter((p) => p.relativeInside).length}/${pairsN} relative, ${r.pairs.filter((p) => p.absoluteInside).length}/${pairsN} absolute`,
        )
        .join('; '),
    },
    {
      name: 'median |log10 error| of the relative IC50 < 0.1 (pairs with a point estimate, all seeds)',
      holds: median(errors) < 0.1,
      detail: `median ${fmt(median(errors))} over ${errors.length} estimates (absolute IC50: ${fmt(median(absErrors))} over ${absErrors.length})`,
    },
    {
      name: `total treatment wells ≤ a third of 24 × ${pairsN} pairs (${wellLimit}) in every seed`,
      holds: seedResults.every((r) => r.treatmentWells <= wellLimit),
      detail: seedResults.map((r) => `seed ${r.seed}: ${r.treatmentWells}`).join('; '),
    },
    {
      name: 'the inactive pair is declared inactive within 6 wells',
      holds: seedResults.every((r) => {
        const p = pairOf(r, INACTIVE);
        return p.state === 'inactive' && p.wellsWhenDeclaredInactive !== null && p.wellsWhenDeclaredInactive <= 6;
      }),
      detail: seedResults
        .map((r) => {
          const p = pairOf(r, INACTIVE);
          return `seed ${r.seed}: ${p.state}, declared at ${p.wellsWhenDeclaredInactive ?? 'never'} wells, ${showValue(p.relative).ci} µM`;
        })
        .join('; '),
    },
    {
      name: 'the pair just beyond the top is flagged out of range (above) within 8 wells (first flag)',
      holds: seedResults.every((r) => {
        const p = pairOf(r, BEYOND_TOP);
        return p.wellsWhenFlaggedOutOfRange !== null && p.wellsWhenFlaggedOutOfRange <= 8;
      }),
      detail: seedResults
        .map((r) => {
          const p = pairOf(r, BEYOND_TOP);
          return `seed ${r.seed}: flagged at ${p.wellsWhenFlaggedOutOfRange ?? 'never'} wells, ends ${p.state}${p.outOfRange ? ` (${p.outOfRange})` : ''} with ${p.wells} wells, ${showValue(p.relative).est} [${showValue(p.relative).ci}] µM`;
        })
        .join('; '),
    },
    {
      name: 'the selectivity window: both true edges inside their 95% intervals',
      holds: seedResults.every((r) => r.selectivity.contains),
      detail: seedResults.map((r) => `seed ${r.seed}: ${r.selectivity.contains ? 'yes' : 'no'}`).join('; '),
    },
  ];
  const seconds = (Date.now() - t0) / 1000;
  console.log(`\ntotals (${seeds.length} seeds, ${seconds.toFixed(0)} s):`);
  for (const t of targets) console.log(`${t.holds ? 'PASS' : 'FAIL'}  ${t.name}\n      ${t.detail}`);
  const out = resolve('bench/results/panel.json');
  mkdirSync(dirname(out), { recursive: true });
  writeFileSync(
    out,
    JSON.stringify(
      {
        seeds,
        seconds,
        protocol,
        truths: Object.fromEntries(
          [...truths].map(([k, t]) => [
            k,
            {
              relativeMicromolar: 10 ** t.relativeLog10,
              absoluteMicromolar: t.absoluteLog10 === null ? null : 10 ** t.absoluteLog10,
            },
          ]),
        ),
        runs: seedResults,
        targets,
      },
      null,
      1,
    ),
  );
  console.log(`wrote ${out}`);
}

main().catch((err) => {
  console.error(`bench:panel failed: ${(err as Error).stack ?? String(err)}`);
  process.exitCode = 1;
});
