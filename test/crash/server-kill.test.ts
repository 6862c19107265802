import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { startDevServer, type DevServer, type DevServerOptions } from '../../src/devserver/dev-server';
import type { FaultProfile } from '../../src/lab/driver';
import { runCrashScenario } from '../helpers/crash-harness';
import { freePort, SUGGEST_CONTINUE_AS_NEW_AFTER_EVENTS } from '../global-setup';

/**
 * SIGKILL the Temporal server itself mid-campaign and start it again on the same SQLite file and
 * port. The workers stay up and reconnect; timers, pending activities and histories come back
 * from the database. This test owns its server, so killing it disturbs no other test.
 */
const seed = Number(process.env.CELLOS_CRASH_SEED ?? Date.now() % 1_000_000);
const dir = mkdtempSync(join(tmpdir(), 'cellos-server-kill-'));
let server: DevServer | undefined;
afterAll(async () => {
  await server?.stop();
  rmSync(dir, { recursive: true, force: true });
});

const slowInstruments: FaultProfile = {
  contaminationRate: 0,
  transientErrorRate: 0,
  instruments: {
    'liquid-handler': { latencySpikeRate: 0.6, latencySpikeMs: 2_000 },
    'plate-reader': { latencySpikeRate: 0.6, latencySpikeMs: 2_000 },
  },
};

describe('killing the Temporal server', () => {
  it('completes the campaign after the server is SIGKILLed 5 times (inside lab steps, during incubations, between batches) and restarted on the same database', async () => {
    const options: DevServerOptions = {
      port: await freePort(),
      dbFile: join(dir, 'temporal.db'),
      logFile: join(dir, 'temporal.log'),
      dynamicConfig: { 'limit.historyCount.suggestContinueAsNew': SUGGEST_CONTINUE_AS_NEW_AFTER_EVENTS },
    };
    server = await startDevServer(options);
    const log = (line: string) => console.log(`[seed ${seed}] ${line}`);
    const outcome = await runCrashScenario(server.address, {
      name: `crash-server-${randomUUID().slice(0, 6)}`,
      maxIterations: 4,
      target: 'server',
      kills: 5,
      phases: ['activity', 'timer', 'between batches'],
      minIntervalMs: 3_000,
      killAndRestart: async () => {
        const exited = new Promise((r) => server!.process.once('exit', r));
        server!.process.kill('SIGKILL');
        await exited;
        server = await startDevServer(options);
      },
      faults: slowInstruments,
      // The uninterrupted run goes to the suite's server: it must not be killed with this one.
      referenceAddress: inject('temporalAddress'),
      seed,
      log,
    });
    log(`server scenario ended after ${(outcome.wallMs / 1000).toFixed(1)} s`);

    expect(outcome.kills).toHaveLength(5);
    expect(outcome.results.status.state).toBe('completed');
    expect(outcome.audit.problems).toEqual([]);
    expect(outcome.audit.wells).toBe(4 * 6);
    expect(outcome.audit.spentUsd).toBeCloseTo(outcome.audit.physicalCostUsd, 2);
    expect(outcome.differences).toEqual([]);
  }, 240_000);
});
