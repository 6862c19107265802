import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { resolveCampaignConfig } from '../src/config/campaign-config';
import { completedResults } from '../src/client/campaign-client';
import type { CampaignResults } from '../src/domain/campaign-status';
import { startDevServer, type DevServer, type DevServerOptions } from '../src/devserver/dev-server';
import type { FaultProfile } from '../src/lab/driver';
import { streamFor } from '../src/lab/rng';
import {
  type CampaignPhase,
  CrashLab,
  killRepeatedly,
  type KillTarget,
  observePhase,
  resultWithin,
} from '../test/helpers/crash-harness';
import { freePort } from '../test/global-setup';

/**
 * `npm run chaos`: the crash tests at scale. One campaign of ~200 experiments on a lab whose
 * instruments misbehave (transient errors, latency spikes, hangs, outages, contamination, dropped
 * plates) while the lab worker, the orchestration worker and the Temporal server itself are
 * killed with SIGKILL ~100 times at random moments and restarted. Then the campaign is held
 * against the lab's own log. Exits 1 unless it completed with no duplicate physical operation,
 * no lost result and spend equal to the work physically done.
 *
 *   npm run chaos -- [--kills 100] [--iterations 20] [--batch 10] [--seed N]
 */
const { values } = parseArgs({
  options: {
    kills: { type: 'string', default: '100' },
    iterations: { type: 'string', default: '20' },
    batch: { type: 'string', default: '10' },
    seed: { type: 'string', default: String(Date.now() % 1_000_000) },
  },
});
const KILLS = Number(values.kills);
const ITERATIONS = Number(values.iterations);
const BATCH = Number(values.batch);
const SEED = Number(values.seed);

/** Instruments that misbehave the way DOMAIN.md says real ones do, only more often. */
const FAULTS: FaultProfile = {
  contaminationRate: 0.01,
  transientErrorRate: 0,
  instruments: {
    'liquid-handler': {
      transientErrorRate: 0.05,
      latencySpikeRate: 0.1,
      latencySpikeMs: 600,
      hangRate: 0.01,
      hangMs: 5_000,
    },
    incubator: { transientErrorRate: 0.02, offlineRate: 0.005, offlineSeconds: 3 },
    'plate-reader': {
      transientErrorRate: 0.05,
      latencySpikeRate: 0.1,
      latencySpikeMs: 600,
      hangRate: 0.01,
      hangMs: 5_000,
      offlineRate: 0.005,
      offlineSeconds: 3,
      plateDropRate: 0.05,
    },
  },
};

/** Which moments each target is killed in. */
const PHASES: Record<KillTarget, CampaignPhase[]> = {
  lab: ['activity', 'timer', 'between batches'],
  // Not between batches: the learner's activity has no heartbeat, and a kill during it costs its
  // 5-minute start-to-close timeout (it recovers; it is just slow).
  orchestration: ['activity', 'timer'],
  server: ['activity', 'timer', 'between batches'],
};

function plan(i: number): { target: KillTarget; phase: CampaignPhase } {
  const draw = streamFor(SEED, 'chaos plan', i);
  const u = draw.uniform();
  const target: KillTarget = u < 0.45 ? 'lab' : u < 0.9 ? 'orchestration' : 'server';
  // Between batches comes once per batch; the other moments come and go all the time.
  const phases = PHASES[target];
  const v = draw.uniform();
  const phase = phases.includes('between batches') && v < 0.15 ? 'between batches' : v < 0.575 ? 'activity' : 'timer';
  return { target, phase };
}

async function main(): Promise<number> {
  const t0 = Date.now();
  const dir = mkdtempSync(join(tmpdir(), 'cellos-chaos-'));
  const serverOptions: DevServerOptions = {
    port: await freePort(),
    dbFile: join(dir, 'temporal.db'),
    logFile: join(dir, 'temporal.log'),
    // Continue-as-new every few batches, so kills also land around the hand-over.
    dynamicConfig: { 'limit.historyCount.suggestContinueAsNew': 500 },
  };
  let server: DevServer = await startDevServer(serverOptions);
  // Faults are the lab's: its worker runs with a profile that switches them on.
  const lab = await CrashLab.open(server.address, { faults: FAULTS });
  try {
    const base = resolveCampaignConfig(
      {
        name: `chaos-${SEED}`,
        cellLines: ['U2OS', 'HEK293T', 'HeLa', 'Jurkat'],
        compounds: ['staurosporine', 'tunicamycin', 'doxorubicin'],
        doseRange: { minMicromolar: 0.0001, maxMicromolar: 10 },
        assay: 'viability',
        // The cheap, deterministic learner: it never declares the goal reached, so all batches run.
        proposer: 'space-filling',
        batchSize: BATCH,
        controlsPerLine: 1,
        maxIterations: ITERATIONS,
        budgetUsd: 100_000,
        seed: SEED,
        secondsPerLabHour: 0.1,
        heartbeatTimeoutSeconds: 3,
        // Failures are what we came for: no self-pause.
        failurePause: { maxFailureRate: 1 },
      },
      'chaos config',
    );
    const config = base;
    const handle = await lab.startCampaign(config, `campaign-${config.name}`);
    console.log(
      `chaos (seed ${SEED}): ${ITERATIONS} batches of ${BATCH} experiments, ${KILLS} kills planned, Temporal at ${server.address}`,
    );
    const kills = await killRepeatedly({
      plan,
      kills: KILLS,
      observe: () => observePhase(lab.client, handle.workflowId, lab.startedAt.get('lab')!),
      killAndRestart: async (target) => {
        if (target !== 'server') return lab.restart(target);
        const exited = new Promise((r) => server.process.once('exit', r));
        server.process.kill('SIGKILL');
        await exited;
        server = await startDevServer(serverOptions);
      },
      ended: completedResults(handle),
      seed: SEED,
      maxJitterMs: 400,
      phaseTimeoutMs: 6_000,
      log: (line) => {
        if (/^kill \d*0:/.test(line)) console.log(`  ${line}`);
      },
    });
    const results = await resultWithin<CampaignResults>(handle, lab.client, 600_000);
    const audit = lab.audit(results);
    const faults = lab.faultCounts();
    const treatments = results.outcomes.filter((o) => !o.proposal.isControl);
    const failed = results.outcomes.filter((o) => o.status === 'failed');
    const count = <T extends string>(items: T[]) =>
      Object.entries(items.reduce<Record<string, number>>((acc, k) => ({ ...acc, [k]: (acc[k] ?? 0) + 1 }), {}))
        .map(([k, n]) => `${k} ${n}`)
        .join(', ') || 'none';
    const wall = (Date.now() - t0) / 1000;
    const clean =
      ['completed', 'goal reached'].includes(results.status.state) &&
      audit.duplicateOperations === 0 &&
      audit.repeatedPlateSteps === 0 &&
      audit.lostResults === 0 &&
      audit.problems.length === 0;
    console.log(`
campaign                       ${results.status.campaignId}: ${results.status.state} (${results.status.detail}), ${results.status.iteration} batches, ${results.status.runs} continue-as-new
experiments                    ${treatments.length} + ${results.outcomes.length - treatments.length} vehicle controls: ${results.outcomes.length - failed.length} completed, ${failed.length} failed (${count(failed.map((f) => f.failure?.type ?? 'unknown'))})
kills survived                 ${kills.length} (${count(kills.map((k) => `${k.target}`))})
  at the moment                ${count(kills.map((k) => k.phase))}
faults injected                ${
      Object.entries(faults)
        .map(([k, n]) => `${k} ${n}`)
        .join(', ') || 'none'
    }
plate steps                    ${audit.plateSteps} protocol runs for ${results.status.iteration} plates, ${audit.repeatedPlateSteps} plate steps run twice
duplicate physical operations  ${audit.duplicateOperations}
lost results                   ${audit.lostResults}
duplicate results              ${audit.duplicateResults}
spend                          $${audit.spentUsd.toFixed(2)} recorded, $${audit.physicalCostUsd.toFixed(2)} of work physically done
wall time                      ${Math.floor(wall / 60)} min ${Math.round(wall % 60)} s
verdict                        ${clean ? 'PASS: nothing lost, nothing done twice' : `FAIL:\n  ${audit.problems.slice(0, 20).join('\n  ')}`}`);
    return clean ? 0 : 1;
  } finally {
    await lab.close();
    await server.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    console.error(`chaos run failed: ${(err as Error).stack ?? String(err)}`);
    process.exitCode = 1;
  },
);
