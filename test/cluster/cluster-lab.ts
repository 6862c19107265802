import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Client, Connection, type WorkflowHandle } from '@temporalio/client';
import { startCampaign } from '../../src/client/campaign-client';
import { dataConverterOptions } from '../../src/temporal/codec';
import type { CampaignConfig } from '../../src/config/campaign-config';
import { builtinLabConfig } from '../../src/config/lab-config';
import { builtinLabProfile } from '../../src/config/lab-profile';
import type { FaultProfile } from '../../src/lab/driver';
import { InstrumentGuard, type InstrumentUse } from '../../src/instruments/instrument-guard';
import { auditCampaign, type CampaignAudit } from '../../src/lab/campaign-audit';
import type { CampaignResults } from '../../src/domain/campaign-status';
import { profilePricing } from '../../src/lab/catalogue';
import { LabStore } from '../../src/lab/lab-store';
import { incubatorWorkflowId, instrumentTaskQueue, type OperationInstrument } from '../../src/temporal/task-queues';
import type { campaignWorkflow } from '../../src/workflows/campaign';
import { clientEnv, connectionOptions } from '../../scripts/cluster/cluster';
import type { ClusterSettings } from '../../scripts/cluster/settings';
import { prebuiltWorkflowBundle } from '../helpers/crash-harness';

/**
 * A lab on the scripted cluster as it would run on a real one: the orchestration worker and one
 * lab-worker process per instrument (`src/workers/lab.ts --instrument NAME`), every one a real
 * process reaching the frontend through envconfig's variables (with mTLS when the cluster has
 * it). The liquid handler is served by two processes, as two PCs claiming one robot would: its
 * capacity must still hold, through the leases in the lab file.
 */
export const LAB_PROCESSES: readonly OperationInstrument[] = [
  'liquid-handler',
  'liquid-handler',
  'plate-reader',
  'imager',
];

interface WorkerProcess {
  name: string;
  child: ChildProcess;
  output: string[];
}

export class ClusterLab {
  readonly env: Record<string, string>;
  readonly labDbPath: string;
  readonly labTaskQueue: string;
  readonly orchestrationTaskQueue: string;
  private readonly dir: string;
  private readonly workers: WorkerProcess[] = [];

  private constructor(
    readonly settings: ClusterSettings,
    readonly client: Client,
  ) {
    this.dir = mkdtempSync(join(tmpdir(), 'cellos-cluster-lab-'));
    this.labDbPath = join(this.dir, 'lab.db');
    const id = randomUUID().slice(0, 8);
    this.labTaskQueue = `cluster-lab-${id}`;
    this.orchestrationTaskQueue = `cluster-orchestration-${id}`;
    this.env = {
      ...clientEnv(settings),
      CELLOS_ORCHESTRATION_TASK_QUEUE: this.orchestrationTaskQueue,
      CELLOS_LAB_TASK_QUEUE: this.labTaskQueue,
      CELLOS_LAB_DB: this.labDbPath,
    };
  }

  /**
   * Payloads are encrypted (AES-256-GCM, a fresh key per lab) in the test's client and in every
   * worker, as docker-compose.yml runs them: the server and PostgreSQL see only ciphertext.
   */
  static async open(settings: ClusterSettings, options: { faults?: FaultProfile } = {}): Promise<ClusterLab> {
    const codecEnv = { CELLOS_CODEC_KEY: randomBytes(32).toString('base64'), CELLOS_CODEC_KEY_ID: 'cluster-test' };
    const connection = await Connection.connect(connectionOptions(settings));
    const lab = new ClusterLab(
      settings,
      new Client({ connection, namespace: settings.namespace, ...dataConverterOptions(codecEnv) }),
    );
    Object.assign(lab.env, codecEnv);
    if (options.faults) {
      // The lab's world is the lab workers': faults reach them through their profile.
      const profilePath = join(lab.dir, 'profile.json');
      writeFileSync(profilePath, JSON.stringify({ name: 'cluster-crash-lab', faults: options.faults }));
      lab.env.CELLOS_LAB_PROFILE = profilePath;
    }
    lab.env.CELLOS_WORKFLOW_BUNDLE = await prebuiltWorkflowBundle();
    await Promise.all([
      lab.startWorker('orchestration', []),
      ...LAB_PROCESSES.map((instrument) => lab.startWorker('lab', ['--instrument', instrument])),
    ]);
    return lab;
  }

  private startWorker(role: 'orchestration' | 'lab', args: string[]): Promise<void> {
    const child = spawn(process.execPath, ['--import', 'tsx', resolve(`src/workers/${role}.ts`), ...args], {
      env: { ...process.env, ...this.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const worker: WorkerProcess = { name: [role, ...args.slice(1)].join(' '), child, output: [] };
    this.workers.push(worker);
    process.once('exit', () => child.kill('SIGKILL'));
    return new Promise<void>((ok, fail) => {
      const timer = setTimeout(
        () => fail(new Error(`${worker.name} worker did not start: ${worker.output.join('')}`)),
        90_000,
      );
      child.stdout!.on('data', (chunk: Buffer) => {
        worker.output.push(chunk.toString());
        if (chunk.toString().includes('polling')) {
          clearTimeout(timer);
          ok();
        }
      });
      child.stderr!.on('data', (chunk: Buffer) => worker.output.push(chunk.toString()));
      child.once('exit', (code, signal) => {
        clearTimeout(timer);
        fail(new Error(`${worker.name} worker exited (${code ?? signal}): ${worker.output.join('')}`));
      });
    });
  }

  startCampaign(config: CampaignConfig, campaignId: string): Promise<WorkflowHandle<typeof campaignWorkflow>> {
    return startCampaign(
      { client: this.client, orchestrationTaskQueue: this.orchestrationTaskQueue, labTaskQueue: this.labTaskQueue },
      config,
      campaignId,
    );
  }

  audit(results: CampaignResults): CampaignAudit {
    const store = LabStore.open(this.labDbPath);
    try {
      return auditCampaign({ results, store, compounds: profilePricing(builtinLabProfile()) });
    } finally {
      store.close();
    }
  }

  /** Per instrument: the most operations the lab file shows running at one moment, and the capacity. */
  peakUse(): Record<string, { peak: number; capacity: number; uses: number }> {
    const guard = InstrumentGuard.open(this.labDbPath);
    try {
      const config = builtinLabConfig();
      const capacity: Record<string, number> = {
        'liquid-handler': config.liquidHandler.capacity,
        'plate-reader': config.plateReader.capacity,
        imager: config.imager.capacity,
      };
      const byInstrument = new Map<string, InstrumentUse[]>();
      for (const use of guard.uses())
        byInstrument.set(use.instrument, [...(byInstrument.get(use.instrument) ?? []), use]);
      return Object.fromEntries(
        [...byInstrument].map(([instrument, uses]) => [
          instrument,
          { peak: peakOverlap(uses), capacity: capacity[instrument] ?? 1, uses: uses.length },
        ]),
      );
    } finally {
      guard.close();
    }
  }

  /** Worker identities polling an instrument's activity queue, as the server sees them. */
  async pollers(instrument: OperationInstrument): Promise<string[]> {
    const response = await this.client.workflowService.describeTaskQueue({
      namespace: this.settings.namespace,
      taskQueue: { name: instrumentTaskQueue(this.labTaskQueue, instrument) },
      taskQueueType: 2, // TASK_QUEUE_TYPE_ACTIVITY
    });
    return (response.pollers ?? []).map((p) => p.identity ?? '');
  }

  workerOutput(): string {
    return this.workers.map((w) => `--- ${w.name}\n${w.output.join('')}`).join('\n');
  }

  async close(): Promise<void> {
    await this.client.workflow
      .getHandle(incubatorWorkflowId(this.labTaskQueue))
      .terminate('cluster test finished')
      .catch(() => undefined);
    await Promise.all(this.workers.map((w) => stop(w.child)));
    await this.client.connection.close();
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/** The largest number of intervals open at one instant (an end at t frees the slot before a start at t). */
export function peakOverlap(uses: readonly InstrumentUse[]): number {
  const events = uses.flatMap((u) => [
    { t: u.startedAtMs, d: 1 },
    { t: u.endedAtMs, d: -1 },
  ]);
  events.sort((a, b) => a.t - b.t || a.d - b.d);
  let open = 0;
  let peak = 0;
  for (const e of events) {
    open += e.d;
    peak = Math.max(peak, open);
  }
  return peak;
}

async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
  await exited;
  clearTimeout(timer);
}
