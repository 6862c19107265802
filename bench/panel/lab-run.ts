import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { DefaultLogger, NativeConnection, Runtime, bundleWorkflowCode } from '@temporalio/worker';
import { completedResults, startCampaign } from '../../src/client/campaign-client';
import type { CampaignConfig } from '../../src/config/campaign-config';
import { builtinLabConfig } from '../../src/config/lab-config';
import type { LabProfile } from '../../src/config/lab-profile';
import { startDevServer, type DevServer } from '../../src/devserver/dev-server';
import type { CampaignResults } from '../../src/domain/campaign-status';
import { InstrumentGuard } from '../../src/instruments/instrument-guard';
import { stockForProfile } from '../../src/inventory/default-stock';
import { InventoryStore } from '../../src/inventory/inventory-store';
import { createVirtualLab } from '../../src/lab/virtual-lab';
import { incubatorWorkflowId } from '../../src/temporal/task-queues';
import { createLabWorkers, runWorkers } from '../../src/workers/lab';
import { createOrchestrationWorker, WORKFLOWS_PATH } from '../../src/workers/orchestration';
import { freePort } from '../../test/global-setup';

/**
 * Real campaigns for the panel bench: its own headless dev server, and per run an orchestration
 * worker and a lab worker serving the count-level virtual lab with the run's profile on a fresh
 * lab file, as the lab worker does in production (and the workflow tests do).
 */

export interface BenchLab {
  run(config: CampaignConfig, profile: LabProfile, tag: string): Promise<CampaignResults>;
  close(): Promise<void>;
}

export async function openBenchLab(log: (s: string) => void): Promise<BenchLab> {
  Runtime.install({ logger: new DefaultLogger('ERROR') });
  const dir = mkdtempSync(join(tmpdir(), 'cellos-bench-panel-'));
  const server: DevServer = await startDevServer({
    port: await freePort(),
    dbFile: join(dir, 'temporal.db'),
    logFile: join(dir, 'temporal.log'),
  });
  log(`dev server at ${server.address} (${dir})`);
  const connection = await NativeConnection.connect({ address: server.address });
  const clientConnection = await Connection.connect({ address: server.address });
  const client = new Client({ connection: clientConnection, namespace: 'default' });
  const bundle = await bundleWorkflowCode({ workflowsPath: WORKFLOWS_PATH, logger: new DefaultLogger('WARN') });
  const labConfig = builtinLabConfig();

  return {
    async run(config, profile, tag) {
      const labDbPath = join(mkdtempSync(join(dir, `lab-${tag}-`)), 'lab.db');
      const driver = createVirtualLab({ dbPath: labDbPath, profile });
      const guard = InstrumentGuard.open(labDbPath);
      const inventory = InventoryStore.open(labDbPath, { initialStock: stockForProfile(profile) });
      const labTaskQueue = `bench-lab-${tag}`;
      const orchestrationTaskQueue = `bench-orchestration-${tag}`;
      const orchestration = await createOrchestrationWorker({
        connection,
        namespace: 'default',
        taskQueue: orchestrationTaskQueue,
        workflowBundle: bundle,
        client,
        labConfig,
      });
      const labWorkers = await createLabWorkers({
        connection,
        namespace: 'default',
        labTaskQueue,
        driver,
        guard,
        inventory,
        labConfig,
        profile,
      });
      const body = async () => {
        try {
          const handle = await startCampaign(
            { client, labTaskQueue, orchestrationTaskQueue },
            config,
            `campaign-${config.name}`,
          );
          return await completedResults(handle);
        } finally {
          await client.workflow
            .getHandle(incubatorWorkflowId(labTaskQueue))
            .terminate('bench finished')
            .catch(() => undefined);
        }
      };
      try {
        return (await runWorkers([orchestration, ...labWorkers], body())) as CampaignResults;
      } finally {
        await driver.close();
        guard.close();
        inventory.close();
      }
    },
    async close() {
      await clientConnection.close();
      await connection.close();
      await server.stop();
    },
  };
}

export function readText(path: string): string {
  return readFileSync(path, 'utf8');
}
