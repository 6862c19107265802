import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import { Client, Connection } from '@temporalio/client';
import {
  NativeConnection,
  Runtime,
  bundleWorkflowCode,
  DefaultLogger,
  type WorkflowBundleWithSourceMap,
} from '@temporalio/worker';
import { inject } from 'vitest';
import type { VirtualLab } from '../../src/lab/virtual-lab';
import type { LabInstruments } from '../../src/instruments/lab-instruments';
import { createVirtualLab } from '../../src/lab/virtual-lab';
import { builtinLabConfig, type LabConfig } from '../../src/config/lab-config';
import { InstrumentGuard } from '../../src/instruments/instrument-guard';
import type { ItemDefinition } from '../../src/inventory/consumption';
import { InventoryStore } from '../../src/inventory/inventory-store';
import { stockForProfile } from '../../src/inventory/default-stock';
import { builtinLabProfile, type LabProfile } from '../../src/config/lab-profile';
import { incubatorWorkflowId, stockroomWorkflowId, type OperationInstrument } from '../../src/temporal/task-queues';
import { createLabWorkers, runWorkers } from '../../src/workers/lab';
import { createOrchestrationWorker, WORKFLOWS_PATH } from '../../src/workers/orchestration';

/**
 * Shared set-up for tests against the real dev server: one client and one workflow bundle per
 * file, and workers on unique task queues per test so tests never pick up each other's work.
 */
export interface TemporalTestEnv {
  client: Client;
  connection: NativeConnection;
  bundle: WorkflowBundleWithSourceMap;
  address: string;
  close(): Promise<void>;
}

let runtimeInstalled = false;

export async function openTestEnv(): Promise<TemporalTestEnv> {
  if (!runtimeInstalled) {
    Runtime.install({ logger: new DefaultLogger('ERROR') });
    runtimeInstalled = true;
  }
  const address = inject('temporalAddress');
  const connection = await NativeConnection.connect({ address });
  const clientConnection = await Connection.connect({ address });
  const client = new Client({ connection: clientConnection, namespace: 'default' });
  const bundle = await bundleWorkflowCode({ workflowsPath: WORKFLOWS_PATH, logger: new DefaultLogger('WARN') });
  return {
    client,
    connection,
    bundle,
    address,
    async close() {
      await clientConnection.close();
      await connection.close();
    },
  };
}

export interface RunningLab {
  orchestrationTaskQueue: string;
  labTaskQueue: string;
  labDbPath: string;
  driver: VirtualLab;
  /** Starts workers for more instruments of this lab and runs them until `until` settles. */
  serve<T>(instruments: OperationInstrument[], until: Promise<T>): Promise<T>;
}

/**
 * Runs an orchestration worker and a lab worker (virtual lab on a fresh SQLite file, optionally
 * wrapped) while `body` runs, then shuts both down.
 */
export async function withWorkers<T>(
  env: TemporalTestEnv,
  body: (lab: RunningLab) => Promise<T>,
  options: {
    wrapDriver?: (driver: VirtualLab) => VirtualLab;
    labConfig?: LabConfig;
    labTaskQueue?: string;
    orchestrationTaskQueue?: string;
    /** An existing lab file (default a fresh one). */
    labDbPath?: string;
    initialStock?: readonly ItemDefinition[];
    /** Instruments served from the start (default all); tests start the others themselves. */
    instruments?: readonly OperationInstrument[];
    /** The lab's world (default the built-in profile), e.g. with faults switched on. */
    profile?: LabProfile;
    /** Which driver serves each instrument (default: the virtual lab for all), given the lab and its file. */
    drivers?: (lab: VirtualLab, labDbPath: string) => Promise<LabInstruments>;
  } = {},
): Promise<T> {
  const id = randomUUID().slice(0, 8);
  const labDbPath = options.labDbPath ?? join(mkdtempSync(join(tmpdir(), 'cellos-lab-')), 'lab.db');
  const profile = options.profile ?? builtinLabProfile();
  const labConfig = options.labConfig ?? builtinLabConfig();
  const base = createVirtualLab({ dbPath: labDbPath, profile, labConfig });
  const guard = InstrumentGuard.open(labDbPath);
  const inventory = InventoryStore.open(labDbPath, { initialStock: options.initialStock ?? stockForProfile(profile) });
  const driver = options.wrapDriver ? options.wrapDriver(base) : base;
  const drivers = options.drivers ? await options.drivers(driver, labDbPath) : undefined;
  const labTaskQueue = options.labTaskQueue ?? `test-lab-${id}`;
  const lab: RunningLab = {
    orchestrationTaskQueue: options.orchestrationTaskQueue ?? `test-orchestration-${id}`,
    labTaskQueue,
    labDbPath,
    driver,
    async serve(instruments, until) {
      const more = await createLabWorkers({
        connection: env.connection,
        namespace: 'default',
        labTaskQueue,
        driver,
        guard,
        inventory,
        labConfig,
        profile,
        instruments,
        stockroom: false,
      });
      return (await runWorkers(more, until)) as Awaited<typeof until>;
    },
  };
  const orchestration = await createOrchestrationWorker({
    connection: env.connection,
    namespace: 'default',
    taskQueue: lab.orchestrationTaskQueue,
    workflowBundle: env.bundle,
    client: env.client,
    labConfig,
  });
  const labWorkers = await createLabWorkers({
    connection: env.connection,
    namespace: 'default',
    labTaskQueue: lab.labTaskQueue,
    driver,
    drivers,
    guard,
    inventory,
    labConfig,
    profile,
    instruments: options.instruments,
  });
  const bodyThenTidy = async () => {
    try {
      return await body(lab);
    } finally {
      // The lab's incubator and stockroom workflows live forever by design; end this test's ones.
      for (const id of [incubatorWorkflowId(lab.labTaskQueue), stockroomWorkflowId(lab.labTaskQueue)])
        await env.client.workflow
          .getHandle(id)
          .terminate('test finished')
          .catch(() => undefined);
    }
  };
  try {
    return (await runWorkers([orchestration, ...labWorkers], bodyThenTidy())) as T;
  } finally {
    await drivers?.close();
    await base.close();
    guard.close();
    inventory.close();
  }
}

export function uniqueName(prefix: string): string {
  return `${prefix}-${randomUUID().slice(0, 8)}`;
}
