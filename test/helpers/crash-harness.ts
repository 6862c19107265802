import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import { Client, Connection, type WorkflowHandle } from '@temporalio/client';
import proto from '@temporalio/proto';
import { bundleWorkflowCode, DefaultLogger } from '@temporalio/worker';
import { completedResults, startCampaign } from '../../src/client/campaign-client';
import { resolveCampaignConfig, type CampaignConfig } from '../../src/config/campaign-config';
import type { CampaignResults } from '../../src/domain/campaign-status';
import { auditCampaign, compareRuns, type CampaignAudit } from '../../src/lab/campaign-audit';
import { profilePricing } from '../../src/lab/catalogue';
import { builtinLabProfile } from '../../src/config/lab-profile';
import type { FaultProfile } from '../../src/lab/driver';
import { InstrumentGuard } from '../../src/instruments/instrument-guard';
import { LabStore } from '../../src/lab/lab-store';
import { streamFor } from '../../src/lab/rng';
import { incubatorWorkflowId } from '../../src/temporal/task-queues';
import type { campaignWorkflow } from '../../src/workflows/campaign';
import { WORKFLOWS_PATH } from '../../src/workers/orchestration';
import { startWorkerProcess, stopWorkerProcess, type WorkerProcess } from './processes';

/**
 * Durability under fire: a lab (both worker roles as real processes, a fresh virtual-lab file,
 * unique task queues) that a test or `npm run chaos` kills with SIGKILL at chosen moments of a
 * running campaign, then audits against the lab's own log and against an uninterrupted run.
 * No vitest imports: scripts/chaos.ts uses it too.
 */
export type WorkerRole = 'orchestration' | 'lab';

/** Where a campaign is when a kill lands. */
export type CampaignPhase = 'activity' | 'timer' | 'between batches' | 'queued';

export interface KillRecord {
  target: WorkerRole | 'server';
  phase: CampaignPhase;
  atMs: number;
}

export class CrashLab {
  readonly env: Record<string, string>;
  readonly labDbPath: string;
  private readonly dir: string;
  private readonly workers = new Map<WorkerRole, WorkerProcess>();
  /** When each role's current process started; a lab activity started before that died with its worker. */
  readonly startedAt = new Map<WorkerRole, number>();

  private constructor(
    readonly client: Client,
    readonly address: string,
    readonly labTaskQueue: string,
  ) {
    this.dir = mkdtempSync(join(tmpdir(), 'cellos-crash-'));
    this.labDbPath = join(this.dir, 'lab.db');
    const id = randomUUID().slice(0, 8);
    this.env = {
      TEMPORAL_ADDRESS: address,
      TEMPORAL_NAMESPACE: 'default',
      CELLOS_ORCHESTRATION_TASK_QUEUE: `crash-orchestration-${id}`,
      CELLOS_LAB_TASK_QUEUE: labTaskQueue,
      CELLOS_LAB_DB: this.labDbPath,
    };
  }

  static async open(address: string, options: { faults?: FaultProfile } = {}): Promise<CrashLab> {
    const bundle = await prebuiltWorkflowBundle();
    const connection = await Connection.connect({ address });
    const lab = new CrashLab(
      new Client({ connection, namespace: 'default' }),
      address,
      `crash-lab-${randomUUID().slice(0, 8)}`,
    );
    lab.env.CELLOS_WORKFLOW_BUNDLE = bundle;
    if (options.faults) {
      // Faults are the lab's, so they go to the lab worker as its profile (JSON is YAML).
      const profilePath = join(lab.dir, 'profile.yaml');
      writeFileSync(profilePath, JSON.stringify({ name: 'crash-lab', faults: options.faults }));
      lab.env.CELLOS_LAB_PROFILE = profilePath;
    }
    await Promise.all([lab.start('orchestration'), lab.start('lab')]);
    return lab;
  }

  async start(role: WorkerRole): Promise<void> {
    const worker = startWorkerProcess(role, this.env);
    this.workers.set(role, worker);
    reapOnExit(worker);
    await withTimeout(worker.ready, 60_000, `${role} worker did not start`);
    this.startedAt.set(role, Date.now());
  }

  /** SIGKILL, then a new process in its place. */
  async restart(role: WorkerRole): Promise<void> {
    await this.kill(role);
    await this.start(role);
  }

  /** SIGKILL: no shutdown, no drain, no goodbye to the server. */
  async kill(role: WorkerRole): Promise<void> {
    const worker = this.workers.get(role);
    if (worker) await stopWorkerProcess(worker, 'SIGKILL');
  }

  async startCampaign(config: CampaignConfig, campaignId: string): Promise<WorkflowHandle<typeof campaignWorkflow>> {
    return startCampaign(
      {
        client: this.client,
        orchestrationTaskQueue: this.env.CELLOS_ORCHESTRATION_TASK_QUEUE,
        labTaskQueue: this.labTaskQueue,
      },
      config,
      campaignId,
    );
  }

  /** Every instrument lease row still in the lab file, expired ones included. */
  leaseRows(): { instrument: string; holder: string }[] {
    const guard = InstrumentGuard.open(this.labDbPath);
    try {
      return guard.activeLeases(undefined, 0);
    } finally {
      guard.close();
    }
  }

  /** The campaign held against this lab's operations log. */
  audit(results: CampaignResults): CampaignAudit {
    const store = LabStore.open(this.labDbPath);
    try {
      return auditCampaign({ results, store, compounds: profilePricing(builtinLabProfile()) });
    } finally {
      store.close();
    }
  }

  faultCounts(): Record<string, number> {
    const store = LabStore.open(this.labDbPath);
    try {
      return store.faultCounts() as Record<string, number>;
    } finally {
      store.close();
    }
  }

  /** Stops the workers and the lab's incubator workflow (it would otherwise outlive the test). */
  async close(): Promise<void> {
    await this.client.workflow
      .getHandle(incubatorWorkflowId(this.labTaskQueue))
      .terminate('crash test finished')
      .catch(() => undefined);
    await Promise.all([...this.workers.values()].map((w) => stopWorkerProcess(w)));
    await this.client.connection.close();
    rmSync(this.dir, { recursive: true, force: true });
  }

  workerOutput(role: WorkerRole): string {
    return this.workers.get(role)?.output.join('') ?? '';
  }
}

const live = new Set<WorkerProcess>();
let reaperInstalled = false;

/**
 * Worker processes die with this process even when a timed-out test never reaches `close()`:
 * orphaned workers would keep polling (and holding lab files) long after the run.
 */
function reapOnExit(worker: WorkerProcess): void {
  if (!reaperInstalled) process.once('exit', () => live.forEach((w) => w.process.kill('SIGKILL')));
  reaperInstalled = true;
  live.add(worker);
  worker.process.once('exit', () => live.delete(worker));
}

let bundleFile: Promise<string> | undefined;

/**
 * The workflow bundle, built once per process and handed to every orchestration worker started
 * here (CELLOS_WORKFLOW_BUNDLE), so a restart after a kill takes seconds, not a webpack build.
 */
export function prebuiltWorkflowBundle(): Promise<string> {
  bundleFile ??= bundleWorkflowCode({ workflowsPath: WORKFLOWS_PATH, logger: new DefaultLogger('WARN') }).then(
    ({ code }) => {
      const dir = mkdtempSync(join(tmpdir(), 'cellos-bundle-'));
      process.once('exit', () => rmSync(dir, { recursive: true, force: true }));
      const path = join(dir, 'workflow-bundle.js');
      writeFileSync(path, code);
      return path;
    },
  );
  return bundleFile;
}

const STARTED = proto.temporal.api.enums.v1.PendingActivityState.PENDING_ACTIVITY_STATE_STARTED;

/**
 * Where the campaign is, from the server's view (works while the orchestration worker is dead):
 * a plate-step activity in flight on a worker started after `sinceMs`, the running plate in an
 * incubation timer, no plate running (between batches), or a plate step queued for an instrument.
 */
export async function observePhase(client: Client, campaignId: string, sinceMs: number): Promise<CampaignPhase> {
  const running: string[] = [];
  for await (const wf of client.workflow.list({
    query: `CampaignId = '${campaignId}' AND WorkflowType = 'plateWorkflow' AND ExecutionStatus = 'Running'`,
  }))
    running.push(wf.workflowId);
  if (running.length === 0) return 'between batches';
  const descriptions = await Promise.all(
    running.map((id) =>
      client.workflow
        .getHandle(id)
        .describe()
        .catch(() => undefined),
    ),
  );
  let incubating = 0;
  for (const d of descriptions) {
    if (!d || d.status.name !== 'RUNNING') continue;
    const pending = d.raw.pendingActivities ?? [];
    if (pending.length === 0) incubating++;
    for (const a of pending) {
      const started = Number(a.lastStartedTime?.seconds ?? 0) * 1000 + (a.lastStartedTime?.nanos ?? 0) / 1e6;
      if (a.state === STARTED && started >= sinceMs) return 'activity';
    }
  }
  // Wells incubate and no lab step is in flight: a kill now interrupts only waiting.
  return incubating > 0 ? 'timer' : 'queued';
}

/**
 * What a campaign that stopped moving is waiting for: its running plate and its pending
 * activities (attempts, last failure). The message a stuck crash test fails with.
 */
export async function describeStall(client: Client, campaignId: string): Promise<string> {
  const lines: string[] = [];
  const campaign = await client.workflow
    .getHandle(campaignId)
    .describe()
    .catch((e: unknown) => e as Error);
  lines.push(`${campaignId}: ${campaign instanceof Error ? campaign.message : campaign.status.name}`);
  for await (const wf of client.workflow.list({
    query: `CampaignId = '${campaignId}' AND WorkflowType = 'plateWorkflow' AND ExecutionStatus = 'Running'`,
  })) {
    const d = await client.workflow.getHandle(wf.workflowId).describe();
    const pending = (d.raw.pendingActivities ?? []).map(
      (a) =>
        `${a.activityType?.name} state ${a.state} attempt ${a.attempt}${a.lastFailure ? ` (${a.lastFailure.message})` : ''}`,
    );
    lines.push(`  ${wf.workflowId}: ${pending.join('; ') || 'no pending activity'}`);
  }
  return lines.join('\n');
}

/** The campaign's result, or a failure that says what the campaign was stuck on. */
export async function resultWithin<T>(handle: WorkflowHandle, client: Client, ms: number): Promise<T> {
  const result = handle.result() as Promise<T>;
  const timedOut = Symbol('timed out');
  const winner = await Promise.race([result, delay(ms).then(() => timedOut)]);
  if (winner !== timedOut) return winner as T;
  throw new Error(`the campaign did not end within ${ms / 1000} s:\n${await describeStall(client, handle.workflowId)}`);
}

export type KillTarget = KillRecord['target'];

export interface KillPlanOptions {
  /** The i-th kill: what to kill, and the moment to wait for. */
  plan: (i: number) => { target: KillTarget; phase: CampaignPhase };
  /** Kills the target with SIGKILL and brings it back; resolves once it serves again. */
  killAndRestart: (target: KillTarget) => Promise<void>;
  kills: number;
  /** Where the campaign is now. */
  observe: () => Promise<CampaignPhase>;
  /** Resolves when the campaign has ended: no more kills. */
  ended: Promise<unknown>;
  seed: number;
  maxJitterMs?: number;
  /** Give up waiting for a phase after this long and move to the next kill of the plan. */
  phaseTimeoutMs?: number;
  /** At least this long between two kills, to spread them over the campaign. */
  minIntervalMs?: number;
  log?: (line: string) => void;
}

/** A plan that kills one target, cycling through the phases. */
export function cyclePlan(target: KillTarget, phases: CampaignPhase[]): KillPlanOptions['plan'] {
  return (i) => ({ target, phase: phases[i % phases.length]! });
}

/**
 * Kills `kills` times as planned: waits until the campaign is in the planned phase, waits a
 * random jitter (seeded, so a failing run can be replayed), kills with SIGKILL and restarts.
 * Stops early when the campaign ends.
 */
export async function killRepeatedly(options: KillPlanOptions): Promise<KillRecord[]> {
  let ended = false;
  void options.ended.finally(() => (ended = true));
  const records: KillRecord[] = [];
  const t0 = Date.now();
  for (let i = 0; records.length < options.kills && !ended; i++) {
    const { target, phase: want } = options.plan(i);
    const last = records.at(-1);
    if (last && options.minIntervalMs) await delay(Math.max(0, t0 + last.atMs + options.minIntervalMs - Date.now()));
    const deadline = Date.now() + (options.phaseTimeoutMs ?? 20_000);
    let phase: CampaignPhase | undefined;
    while (!ended && Date.now() < deadline) {
      phase = await options.observe().catch(() => undefined);
      if (phase === want) break;
      await delay(25);
    }
    if (ended || phase !== want) continue;
    await delay(streamFor(options.seed, 'kill jitter', i).uniform() * (options.maxJitterMs ?? 150));
    if (ended) break;
    const killedAt = Date.now();
    await options.killAndRestart(target);
    records.push({ target, phase: want, atMs: killedAt - t0 });
    options.log?.(
      `kill ${records.length}: the ${target} during ${want} at ${((killedAt - t0) / 1000).toFixed(1)} s; ` +
        `back after ${((Date.now() - killedAt) / 1000).toFixed(1)} s`,
    );
  }
  return records;
}

/** Runs the campaign with no interference on a fresh lab: the reference a crashed run must equal. */
export async function uninterruptedRun(
  address: string,
  config: CampaignConfig,
  campaignId: string,
): Promise<CampaignResults> {
  const lab = await CrashLab.open(address);
  try {
    const handle = await lab.startCampaign(config, campaignId);
    return await completedResults(handle);
  } finally {
    await lab.close();
  }
}

export { compareRuns };

export function delay(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

async function withTimeout<T>(promise: Promise<T>, ms: number, message: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      promise,
      new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(message)), ms))),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * The campaign the crash tests run: two lines × staurosporine, 4 treatments and 2 vehicle wells
 * per batch. Lab steps heartbeat-time-out after `heartbeatTimeoutSeconds`, so a lab worker killed
 * mid-step costs seconds, not the production 30 s. `name` fixes the logical plates (noise keys):
 * runs with the same name and seed read the same numbers.
 */
export function crashCampaignConfig(options: {
  name: string;
  maxIterations: number;
  secondsPerLabHour: number;
  heartbeatTimeoutSeconds?: number;
  faults?: FaultProfile;
  seed?: number;
  batchSize?: number;
}): CampaignConfig {
  const config = resolveCampaignConfig(
    {
      name: options.name,
      cellLines: ['U2OS', 'HEK293T'],
      compounds: ['staurosporine'],
      doseRange: { minMicromolar: 0.001, maxMicromolar: 10 },
      assay: 'viability',
      // Cheap and deterministic: the tests are about durability, not learning.
      proposer: 'space-filling',
      batchSize: options.batchSize ?? 4,
      controlsPerLine: 1,
      maxIterations: options.maxIterations,
      budgetUsd: 5_000,
      seed: options.seed ?? 7,
      secondsPerLabHour: options.secondsPerLabHour,
      heartbeatTimeoutSeconds: options.heartbeatTimeoutSeconds ?? 3,
      // Failures are data here, not a reason to stop and call a person.
      failurePause: { maxFailureRate: 1 },
    },
    'crash test config',
  );
  return config;
}

export interface CrashScenario {
  /** The campaign's name: it fixes the logical plates, so runs with one name read the same numbers. */
  name: string;
  maxIterations: number;
  /** What to kill; workers are restarted by the harness, a server by `killAndRestart`. */
  target: KillTarget;
  killAndRestart?: () => Promise<void>;
  kills: number;
  phases: CampaignPhase[];
  minIntervalMs?: number;
  faults?: FaultProfile;
  secondsPerLabHour?: number;
  /** The uninterrupted run to compare with; started here (on `referenceAddress`) when absent. */
  reference?: Promise<CampaignResults>;
  referenceAddress?: string;
  seed: number;
  log?: (line: string) => void;
}

export interface CrashOutcome {
  kills: KillRecord[];
  results: CampaignResults;
  audit: CampaignAudit;
  /** Differences from the uninterrupted run of the same campaign; empty when identical. */
  differences: string[];
  faults: Record<string, number>;
  /** Instrument lease rows left in the lab file after the campaign (expired or not): leaks. */
  leases: { instrument: string; holder: string }[];
  wallMs: number;
}

/** The uninterrupted run of a crash scenario's campaign (fast clock, no faults), on its own lab. */
export function referenceRun(address: string, name: string, maxIterations: number): Promise<CampaignResults> {
  const run = uninterruptedRun(
    address,
    crashCampaignConfig({ name, maxIterations, secondsPerLabHour: 0.01 }),
    `campaign-${name}-reference-${randomUUID().slice(0, 6)}`,
  );
  run.catch(() => undefined);
  return run;
}

/**
 * The whole experiment: the campaign on a lab whose `target` is killed `kills` times, audited
 * against the lab's log and compared with the uninterrupted run of the same campaign.
 */
export async function runCrashScenario(address: string, scenario: CrashScenario): Promise<CrashOutcome> {
  const t0 = Date.now();
  const { name, maxIterations } = scenario;
  const reference = scenario.reference ?? referenceRun(scenario.referenceAddress ?? address, name, maxIterations);
  const config = crashCampaignConfig({
    name,
    maxIterations,
    // One run per plate step leaves little to aim at: a slower clock keeps the plate in its timers long enough for every planned kill.
    secondsPerLabHour: scenario.secondsPerLabHour ?? 0.4,
    faults: scenario.faults,
  });
  const lab = await CrashLab.open(address, { faults: scenario.faults });
  try {
    const handle = await lab.startCampaign(config, `campaign-${name}-${scenario.target}-${randomUUID().slice(0, 6)}`);
    const kills = await killRepeatedly({
      plan: cyclePlan(scenario.target, scenario.phases),
      kills: scenario.kills,
      minIntervalMs: scenario.minIntervalMs,
      // In-flight lab steps count only if the lab worker now running started them.
      observe: () => observePhase(lab.client, handle.workflowId, lab.startedAt.get('lab')!),
      killAndRestart: (target) => (target === 'server' ? scenario.killAndRestart!() : lab.restart(target)),
      ended: completedResults(handle),
      seed: scenario.seed,
      log: scenario.log,
    });
    const results = await resultWithin<CampaignResults>(handle, lab.client, 120_000);
    return {
      kills,
      results,
      audit: lab.audit(results),
      differences: compareRuns(results, await reference),
      faults: lab.faultCounts(),
      leases: lab.leaseRows(),
      wallMs: Date.now() - t0,
    };
  } finally {
    await lab.close();
  }
}
