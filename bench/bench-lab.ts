import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { bundleWorkflowCode, DefaultLogger, NativeConnection, Runtime, type Worker } from '@temporalio/worker';
import type { LabConfig } from '../src/config/lab-config';
import { startDevServer, type DevServer } from '../src/devserver/dev-server';
import { InstrumentGuard } from '../src/instruments/instrument-guard';
import { InventoryStore } from '../src/inventory/inventory-store';
import { createVirtualLab } from '../src/lab/virtual-lab';
import { createLabWorkers } from '../src/workers/lab';
import { createOrchestrationWorker, WORKFLOWS_PATH } from '../src/workers/orchestration';
import { freePort } from '../test/global-setup';

/**
 * What a lab benchmark runs on: its own dev server on a free port and a fresh lab file in a
 * temporary folder, an orchestration worker and the lab's workers on the virtual lab, all in this
 * process. The benchmark runs them with `runWorkers(lab.workers, …)`.
 */
export interface BenchLab {
  server: DevServer;
  client: Client;
  labDb: string;
  guard: InstrumentGuard;
  inventory: InventoryStore;
  queues: { orchestrationTaskQueue: string; labTaskQueue: string };
  workers: Worker[];
  /** Closes the lab file, the connections and the server, and removes the temporary folder. */
  close(): Promise<void>;
}

export async function openBenchLab(options: {
  name: string;
  labConfig: LabConfig;
  dynamicConfig?: Record<string, unknown>;
  maxConcurrentWorkflowTaskExecutions?: number;
}): Promise<BenchLab> {
  const { name, labConfig } = options;
  Runtime.install({ logger: new DefaultLogger('ERROR') });
  const dir = mkdtempSync(join(tmpdir(), `cellos-${name}-`));
  const server = await startDevServer({
    port: await freePort(),
    dbFile: join(dir, 'temporal.db'),
    logFile: join(dir, 'temporal.log'),
    ...(options.dynamicConfig ? { dynamicConfig: options.dynamicConfig } : {}),
  });
  const connection = await NativeConnection.connect({ address: server.address });
  const clientConnection = await Connection.connect({ address: server.address });
  const client = new Client({ connection: clientConnection });
  const labDb = join(dir, 'lab.db');
  const driver = createVirtualLab({ dbPath: labDb, labConfig });
  const guard = InstrumentGuard.open(labDb);
  const inventory = InventoryStore.open(labDb);
  const queues = { orchestrationTaskQueue: `${name}-orchestration`, labTaskQueue: `${name}-lab` };
  const workflowBundle = await bundleWorkflowCode({
    workflowsPath: WORKFLOWS_PATH,
    logger: new DefaultLogger('ERROR'),
  });
  const workers = [
    await createOrchestrationWorker({
      connection,
      namespace: 'default',
      taskQueue: queues.orchestrationTaskQueue,
      workflowBundle,
      client,
      labConfig,
      ...(options.maxConcurrentWorkflowTaskExecutions
        ? { maxConcurrentWorkflowTaskExecutions: options.maxConcurrentWorkflowTaskExecutions }
        : {}),
    }),
    ...(await createLabWorkers({
      connection,
      namespace: 'default',
      labTaskQueue: queues.labTaskQueue,
      driver,
      guard,
      inventory,
      labConfig,
    })),
  ];
  const close = async () => {
    await driver.close();
    guard.close();
    inventory.close();
    await clientConnection.close();
    await connection.close();
    await server.stop();
    rmSync(dir, { recursive: true, force: true });
  };
  return { server, client, labDb, guard, inventory, queues, workers, close };
}
