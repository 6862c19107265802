import { randomUUID } from 'node:crypto';
import { describe, expect, inject, it } from 'vitest';
import type { FaultProfile } from '../../src/lab/driver';
import { referenceRun, runCrashScenario, type CrashOutcome } from '../helpers/crash-harness';

/**
 * SIGKILL a worker again and again while a campaign runs, restarting it each time, then hold the
 * campaign against the lab's own log and against the uninterrupted run of the same campaign.
 * Latency spikes keep lab steps in flight long enough to be killed inside one. The kill
 * schedule's jitter is seeded: CELLOS_CRASH_SEED=<seed printed by a failing run> replays it.
 */
const address = inject('temporalAddress');
const seed = Number(process.env.CELLOS_CRASH_SEED ?? Date.now() % 1_000_000);
const maxIterations = 3;
const wellsPerBatch = 4 + 2; // 4 treatments, one vehicle control per cell line
const slowInstruments: FaultProfile = {
  contaminationRate: 0,
  transientErrorRate: 0,
  instruments: {
    'liquid-handler': { latencySpikeRate: 0.6, latencySpikeMs: 2_000 },
    'plate-reader': { latencySpikeRate: 0.6, latencySpikeMs: 2_000 },
  },
};
// Both scenarios run the same campaign (same name: same logical plates), so one reference serves both.
const name = `crash-${randomUUID().slice(0, 6)}`;
const reference = referenceRun(address, name, maxIterations);
const log = (line: string) => console.log(`[seed ${seed}] ${line}`);

function expectNothingLostOrDoneTwice(outcome: CrashOutcome): void {
  expect(outcome.results.status.state).toBe('completed');
  // One seed, one dose and one read per well; every result exactly once; spend = work physically done.
  expect(outcome.audit.problems).toEqual([]);
  expect(outcome.audit.wells).toBe(maxIterations * wellsPerBatch);
  // One seed protocol, one dose protocol and one read per plate, whatever was killed mid-step.
  expect(outcome.audit.plateSteps).toBe(maxIterations * 3);
  expect(outcome.audit.repeatedPlateSteps).toBe(0);
  expect(outcome.audit.spentUsd).toBeCloseTo(outcome.audit.physicalCostUsd, 2);
  // The same proposals, readouts, normalised responses, costs and estimates as the uninterrupted run.
  expect(outcome.differences).toEqual([]);
  // No instrument lease outlives its operation, not even one held by a killed worker.
  expect(outcome.leases).toEqual([]);
}

describe('killing workers mid-campaign', () => {
  it('completes the campaign through 10 SIGKILLs of the lab worker (inside lab steps, during incubations, between batches)', async () => {
    const outcome = await runCrashScenario(address, {
      name,
      maxIterations,
      target: 'lab',
      kills: 10,
      phases: ['activity', 'timer', 'activity', 'timer', 'between batches'],
      faults: slowInstruments,
      reference,
      seed,
      log,
    });
    log(`lab-worker scenario ended after ${(outcome.wallMs / 1000).toFixed(1)} s`);
    expect(outcome.kills).toHaveLength(10);
    for (const phase of ['activity', 'timer', 'between batches'])
      expect(outcome.kills.map((k) => k.phase)).toContain(phase);
    expectNothingLostOrDoneTwice(outcome);
  }, 240_000);

  // Not between batches: the learner's activity has no heartbeat, so a kill while it runs stalls
  // the campaign for its 5-minute start-to-close timeout (recovers, but too slow for the suite).
  it('completes the campaign through 10 SIGKILLs of the orchestration worker (during incubations and lab steps)', async () => {
    const outcome = await runCrashScenario(address, {
      name,
      maxIterations,
      target: 'orchestration',
      kills: 10,
      phases: ['timer', 'activity'],
      faults: slowInstruments,
      reference,
      seed,
      log,
    });
    log(`orchestration-worker scenario ended after ${(outcome.wallMs / 1000).toFixed(1)} s`);
    expect(outcome.kills).toHaveLength(10);
    for (const phase of ['timer', 'activity']) expect(outcome.kills.map((k) => k.phase)).toContain(phase);
    expectNothingLostOrDoneTwice(outcome);
  }, 240_000);
});
