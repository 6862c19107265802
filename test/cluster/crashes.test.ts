import { randomUUID } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { CampaignResults } from '../../src/domain/campaign-status';
import { killService, startService } from '../../scripts/cluster/cluster';
import { postgresRunning, startPostgres, stopPostgres } from '../../scripts/cluster/postgres';
import { clusterSettings, SERVICES, type ServiceName } from '../../scripts/cluster/settings';
import {
  crashCampaignConfig,
  cyclePlan,
  delay,
  killRepeatedly,
  observePhase,
  resultWithin,
  type CampaignPhase,
} from '../helpers/crash-harness';
import { ClusterLab } from './cluster-lab';

/**
 * Real failures of the cluster's parts in the middle of a campaign: kill -9 of the history, the
 * matching and the frontend process in turn (each restarted on the same database and ports), and
 * PostgreSQL stopped for a while and started again. The workers stay up and reconnect by
 * themselves. Each campaign must complete with the lab's log clean (no well seeded, dosed or
 * read twice, no result lost, spend equal to the work done) and instrument capacity held.
 */
const settings = clusterSettings({ tls: true });
const seed = Number(process.env.CELLOS_CRASH_SEED ?? Date.now() % 1_000_000);
const log = (line: string) => console.log(`[seed ${seed}] ${line}`);
const POSTGRES_OUTAGE_MS = Number(process.env.CELLOS_CLUSTER_PG_OUTAGE_MS ?? 8_000);

// A fresh lab (workers, lab file) per run: the audit holds the campaign against the whole lab log.
let lab: ClusterLab;
beforeEach(async () => {
  // One activity per plate step is quick: latency spikes keep plate steps in flight long enough
  // for a kill to land inside one.
  lab = await ClusterLab.open(settings, {
    faults: {
      contaminationRate: 0,
      transientErrorRate: 0,
      instruments: {
        'liquid-handler': { latencySpikeRate: 0.6, latencySpikeMs: 2_000 },
        'plate-reader': { latencySpikeRate: 0.6, latencySpikeMs: 2_000 },
      },
    },
  });
});
afterEach(async () => {
  // A failed run must not leave the next one a broken cluster: bring back whatever is down.
  if (!postgresRunning(settings)) startPostgres(settings);
  for (const name of SERVICES) await startService(settings, name, log);
  await lab?.close();
});

type Target = ServiceName | 'postgres';

async function killAndRestart(target: Target): Promise<void> {
  if (target === 'postgres') {
    stopPostgres(settings);
    await delay(POSTGRES_OUTAGE_MS);
    startPostgres(settings);
    return;
  }
  const pid = await killService(settings, target);
  log(`kill -9 ${target} (pid ${pid})`);
  await startService(settings, target, log);
}

/**
 * Resolves once the campaign is no longer running, polling the server: a long-poll on the result
 * could fail while a part of the cluster is down, which would end the kills early.
 */
async function closed(workflowId: string): Promise<void> {
  for (;;) {
    const description = await lab.client.workflow
      .getHandle(workflowId)
      .describe()
      .catch(() => undefined);
    if (description && description.status.name !== 'RUNNING') return;
    await delay(500);
  }
}

async function crashRun(target: Target, phases: CampaignPhase[], kills: number) {
  const t0 = Date.now();
  const name = `cl-${target.slice(0, 4)}-${randomUUID().slice(0, 6)}`;
  const config = crashCampaignConfig({ name, maxIterations: 3, secondsPerLabHour: 0.15 });
  const handle = await lab.startCampaign(config, `campaign-${name}`);
  // Let the campaign get going before the first kill.
  await delay(2_000);
  const records = await killRepeatedly({
    // The harness's targets are its own words; the kill itself is ours.
    plan: cyclePlan('server', phases),
    kills,
    minIntervalMs: 4_000,
    phaseTimeoutMs: 30_000,
    observe: () => observePhase(lab.client, handle.workflowId, 0),
    killAndRestart: () => killAndRestart(target),
    ended: closed(handle.workflowId),
    seed,
    log: (line) => log(line.replace('the server', `the ${target}`)),
  });
  const results = await resultWithin<CampaignResults>(handle, lab.client, 180_000);
  const audit = lab.audit(results);
  const peaks = lab.peakUse();
  log(
    `${target}: ${records.length} outage(s), campaign ${results.status.state} after ${((Date.now() - t0) / 1000).toFixed(1)} s; ` +
      `audit: ${audit.wells} wells, ${audit.duplicateOperations} duplicate operations, ${audit.lostResults} lost results, ` +
      `$${audit.spentUsd.toFixed(2)} spent = $${audit.physicalCostUsd.toFixed(2)} of lab work, ${audit.problems.length} problems; ` +
      `peaks ${JSON.stringify(peaks)}`,
  );
  expect(records.length, 'outages that happened mid-campaign').toBe(kills);
  expect(results.status.state).toBe('completed');
  expect(audit.problems).toEqual([]);
  expect(audit.wells).toBe(3 * 6);
  for (const [instrument, { peak, capacity }] of Object.entries(peaks))
    expect(peak, `${instrument} peak use`).toBeLessThanOrEqual(capacity);
}

describe('the cluster losing a part mid-campaign', () => {
  it('completes after the history service is killed with SIGKILL (inside a lab step, then during an incubation) and restarted', async () => {
    await crashRun('history', ['activity', 'timer'], 2);
  });

  it('completes after the matching service is killed with SIGKILL and restarted', async () => {
    await crashRun('matching', ['activity', 'timer'], 2);
  });

  it('completes after the frontend is killed with SIGKILL and restarted', async () => {
    await crashRun('frontend', ['activity', 'timer'], 2);
  });

  it('completes after PostgreSQL is stopped for a few seconds and started again', async () => {
    await crashRun('postgres', ['activity'], 1);
  });
});
