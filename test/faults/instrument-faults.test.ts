import { execFile } from 'node:child_process';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startCampaign } from '../../src/client/campaign-client';
import { builtinLabConfig } from '../../src/config/lab-config';
import type { CampaignConfig } from '../../src/config/campaign-config';
import type { CampaignResults } from '../../src/domain/campaign-status';
import { auditCampaign, compareRuns } from '../../src/lab/campaign-audit';
import { type FaultProfile, LabFault } from '../../src/lab/driver';
import type { VirtualLab } from '../../src/lab/virtual-lab';
import { LabStore } from '../../src/lab/lab-store';
import { statusQuery, stopSignal } from '../../src/temporal/messages';
import { profileWithFaults, testConfig } from '../helpers/configs';
import { profilePricing } from '../../src/lab/catalogue';
import { builtinLabProfile } from '../../src/config/lab-profile';
import { openTestEnv, uniqueName, withWorkers, type RunningLab, type TemporalTestEnv } from '../helpers/temporal-env';
import { waitFor } from '../helpers/wait';

/**
 * Instrument faults injected by the virtual lab (lab profile `faults.instruments`), seen from a
 * running campaign on the real dev server: what is retried, what is waited for, what fails.
 */
let env: TemporalTestEnv;
beforeAll(async () => {
  env = await openTestEnv();
});
afterAll(async () => {
  await env?.close();
});

/** Faults belong to the lab: its worker runs with a profile that switches them on. */
const withFaults = (faults: FaultProfile) => ({ profile: profileWithFaults(faults) });
const PRICING = profilePricing(builtinLabProfile());
const noFaults: FaultProfile = { contaminationRate: 0, transientErrorRate: 0 };

function inspect<T>(lab: RunningLab, look: (store: LabStore) => T): T {
  const store = LabStore.open(lab.labDbPath);
  try {
    return look(store);
  } finally {
    store.close();
  }
}

async function run(config: CampaignConfig, options: Parameters<typeof withWorkers>[2] = {}) {
  return withWorkers(
    env,
    async (lab) => {
      const handle = await startCampaign({ client: env.client, ...lab }, config, uniqueName(`campaign-${config.name}`));
      const results = await handle.result();
      const audit = inspect(lab, (store) => auditCampaign({ results, store, compounds: PRICING }));
      return {
        results,
        audit,
        faults: inspect(lab, (s) => s.listFaults()),
        operations: inspect(lab, (s) => s.listOperations()),
      };
    },
    options,
  );
}

describe('instrument faults during a campaign', () => {
  it('retries transient errors, latency spikes and short outages on every instrument without changing a single result', async () => {
    const name = uniqueName('soft');
    const base = testConfig({ name, maxIterations: 3, heartbeatTimeoutSeconds: 5 });
    const soft = {
      // One run per plate step: high rates, so a short campaign still meets every kind.
      transientErrorRate: 0.25,
      latencySpikeRate: 0.4,
      latencySpikeMs: 200,
      offlineRate: 0.02,
      offlineSeconds: 1,
    };
    const faulty = await run(
      base,
      withFaults({ ...noFaults, instruments: { 'liquid-handler': soft, incubator: soft, 'plate-reader': soft } }),
    );
    const clean = await run(base, withFaults(noFaults));

    expect(faulty.results.status.state).toBe('completed');
    expect(faulty.results.outcomes.every((o) => o.status === 'succeeded')).toBe(true);
    const kinds = new Set(faulty.faults.map((f) => f.kind));
    expect(kinds).toContain('transient');
    expect(kinds).toContain('latency spike');
    // Retried attempts reached the lab with rising attempt numbers.
    expect(Math.max(...faulty.faults.map((f) => f.attempt))).toBeGreaterThan(1);
    expect(faulty.audit.problems).toEqual([]);
    expect(compareRuns(faulty.results, clean.results)).toEqual([]);
  }, 300_000); // retries back off in real time: two campaigns of three plates

  it('retries a hung lab step once its heartbeat times out, long before the instrument would answer', async () => {
    // The plate read's first attempt hangs (the virtual lab's hangRate draws the same at random;
    // here it is made certain): the reader stops answering, so the activity stops heartbeating.
    const hangMs = 30_000;
    const silent = new Set<string>();
    const wake = new AbortController();
    const hangFirstRead = (driver: VirtualLab): VirtualLab => ({
      ...driver,
      responsive: (a) => !silent.has(`${a.operationKey}#${a.attempt}`),
      async readPlate(request) {
        if (request.attempt > 1) return driver.readPlate(request);
        silent.add(`${request.operationKey}#1`);
        await sleep(hangMs, undefined, { signal: wake.signal }).catch(() => undefined);
        throw new LabFault('InstrumentHung', 'the plate reader stopped answering', false, 'plate reader');
      },
    });
    const config = testConfig({ maxIterations: 1, heartbeatTimeoutSeconds: 1 });
    // Room on the reader for the retries while the hung attempts still hold their slots.
    const labConfig = { ...builtinLabConfig(), plateReader: { capacity: 8, secondsPerPlate: 60, secondsPerWell: 0 } };
    await withWorkers(
      env,
      async (lab) => {
        const started = Date.now();
        const handle = await startCampaign({ client: env.client, ...lab }, config, `campaign-${config.name}`);
        const results = await handle.result();
        const elapsedMs = Date.now() - started;
        wake.abort(); // let the hung attempts go, so the workers can shut down
        expect(results.status.state).toBe('completed');
        expect(results.outcomes.every((o) => o.status === 'succeeded')).toBe(true);
        expect(silent.size).toBe(1); // the plate's one read hung once ...
        expect(elapsedMs).toBeLessThan(hangMs); // ... and none waited for its instrument to answer
        const audit = inspect(lab, (store) => auditCampaign({ results, store, compounds: PRICING }));
        expect(audit.problems).toEqual([]);
      },
      { wrapDriver: hangFirstRead, labConfig },
    );
  });

  it('waits for an instrument a person switched off, names it in the status, and continues when it is back', async () => {
    const run = promisify(execFile);
    const switchReader = (lab: RunningLab, state: 'offline' | 'online') =>
      run(process.execPath, [
        '--import',
        'tsx',
        'scripts/lab-instrument.ts',
        state,
        'plate reader',
        '--db',
        lab.labDbPath,
      ]);
    await withWorkers(env, async (lab) => {
      await switchReader(lab, 'offline');
      const config = testConfig({ maxIterations: 1 });
      const handle = await startCampaign({ client: env.client, ...lab }, config, `campaign-${config.name}`);
      const waiting = await waitFor(
        () => handle.query(statusQuery),
        (s) => s.waitingFor.some((w) => w.instrument === 'plate reader' && w.experiments === 6),
      );
      expect(waiting.state).toBe('running');
      expect(waiting.experiments.failed).toBe(0);
      await switchReader(lab, 'online');
      const results = await handle.result();
      expect(results.outcomes.every((o) => o.status === 'succeeded')).toBe(true);
      expect(results.status.waitingFor).toEqual([]);
      // The plate's one read was refused (at least once) while the reader was off.
      expect(inspect(lab, (s) => s.faultCounts()['offline refusal'])).toBeGreaterThanOrEqual(1);
    });
  });

  it('fails every well of a dropped plate with PlateDropped, keeps their cost, learns nothing from them, and pauses itself', async () => {
    const config = testConfig({ maxIterations: 3, failurePause: { maxFailureRate: 0.3, minExperiments: 5 } });
    const faults = withFaults({ ...noFaults, instruments: { 'plate-reader': { plateDropRate: 1 } } });
    await withWorkers(
      env,
      async (lab) => {
        const handle = await startCampaign({ client: env.client, ...lab }, config, `campaign-${config.name}`);
        const paused = await waitFor(
          () => handle.query(statusQuery),
          (s) => s.state === 'paused',
        );
        expect(paused.detail).toMatch(/6 of 6 experiments failed \(PlateDropped\).*a person is needed/);
        await handle.signal(stopSignal, { reason: 'the plate reader keeps dropping plates' });
        const results: CampaignResults = await handle.result();
        expect(results.status.state).toBe('stopped');
        expect(results.outcomes).toHaveLength(6);
        for (const o of results.outcomes) {
          expect(o.status).toBe('failed');
          expect(o.failure?.type).toBe('PlateDropped');
          expect(o.failure?.message).toMatch(/plate reader dropped plate/);
          expect(o.normalisedResponse).toBeUndefined();
          expect(o.costUsd).toBeGreaterThan(0); // seeded and dosed: paid for
        }
        expect(results.status.estimates.every((e) => e.wells === 0)).toBe(true);
        const audit = inspect(lab, (store) => auditCampaign({ results, store, compounds: PRICING }));
        expect(audit.problems).toEqual([]);
        expect(audit.spentUsd).toBeCloseTo(audit.physicalCostUsd, 2);
      },
      faults,
    );
  });
});
