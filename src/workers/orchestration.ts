import { fileURLToPath } from 'node:url';
import { Client, Connection } from '@temporalio/client';
import { NativeConnection, Worker, type WorkerOptions } from '@temporalio/worker';
import { createCampaignOutputActivities, type CampaignOutputDeps } from '../activities/campaign-output-activities';
import { createLabServiceActivities } from '../activities/lab-service-activities';
import { createLearnerActivities } from '../activities/learner-activities';
import { loadLabConfig, type LabConfig } from '../config/lab-config';
import { temporalSettings } from '../temporal/connection';
import { startWorkerTelemetry, workerTelemetrySettings } from '../telemetry';
import { ORCHESTRATION_TASK_QUEUE, taskQueuesFromEnv } from '../temporal/task-queues';

/**
 * The orchestration worker: campaign, experiment and incubator workflows, the learner (CPU work,
 * so it lives here and not in workflow code) and the lab's bookkeeping services (incubator slots).
 * It touches no hardware and can run anywhere.
 */
export const WORKFLOWS_PATH = fileURLToPath(new URL('../workflows/index.ts', import.meta.url));

/**
 * Workflow tasks this worker runs at once (the SDK's default is 40). They are CPU work; with more
 * of them at once than cores, a plate's next step waits behind dozens of experiments hearing
 * news. With few, the rest wait on the server, which hands out the plates', campaigns' and the
 * incubator's tasks before the experiments' (priority). On 2 cores, 40 → 4 cut a plate's
 * orchestration time from 2.2 s to about 1 s (`npm run bench:lab`). Raise it on larger machines
 * (`CELLOS_WORKFLOW_TASK_SLOTS`).
 */
export const ORCHESTRATION_WORKFLOW_TASK_SLOTS = 4;

export interface OrchestrationWorkerOptions extends Partial<WorkerOptions> {
  connection: NativeConnection;
  namespace: string;
  /** Used by activities that start or inspect other workflows (the incubator). */
  client: Client;
  labConfig: LabConfig;
  taskQueue?: string;
  /** Where end-of-campaign reports go and how webhooks are reached (default: from the environment). */
  outputs?: CampaignOutputDeps;
}

export async function createOrchestrationWorker(options: OrchestrationWorkerOptions): Promise<Worker> {
  const { taskQueue = ORCHESTRATION_TASK_QUEUE, client, labConfig, outputs, ...rest } = options;
  return Worker.create({
    workflowsPath: rest.workflowBundle ? undefined : WORKFLOWS_PATH,
    activities: {
      ...createLearnerActivities(),
      ...createLabServiceActivities({ client, labConfig }),
      ...createCampaignOutputActivities(outputs),
    },
    taskQueue,
    maxConcurrentWorkflowTaskExecutions: ORCHESTRATION_WORKFLOW_TASK_SLOTS,
    ...rest,
  });
}

async function main(): Promise<void> {
  // Codec, metrics and tracing; first, because the Temporal runtime is installed before any connection.
  const telemetry = await startWorkerTelemetry(workerTelemetrySettings('orchestration', process.argv.slice(2)));
  const settings = temporalSettings();
  const connection = await NativeConnection.connect(settings.connectionOptions);
  const clientConnection = await Connection.connect(settings.connectionOptions);
  const client = new Client({
    connection: clientConnection,
    namespace: settings.namespace,
    ...telemetry.clientOptions,
  });
  const taskQueue = taskQueuesFromEnv().orchestration;
  telemetry.observeCampaigns(client, taskQueue);
  // A prebuilt workflow bundle (bundleWorkflowCode's code, in a file) skips bundling at start-up.
  const bundlePath = process.env.CELLOS_WORKFLOW_BUNDLE;
  const worker = await createOrchestrationWorker({
    connection,
    namespace: settings.namespace,
    taskQueue,
    client,
    labConfig: loadLabConfig(),
    ...workflowTaskSlotsFromEnv(),
    ...telemetry.workerOptions,
    ...(bundlePath ? { workflowBundle: { codePath: bundlePath } } : {}),
  });
  if (telemetry.metrics) console.log(`metrics on http://${telemetry.metrics.address}/metrics`);
  console.log(`orchestration worker polling "${taskQueue}" on ${settings.address} (namespace ${settings.namespace})`);
  try {
    await worker.run();
  } finally {
    await clientConnection.close();
    await connection.close();
    await telemetry.shutdown();
  }
}

function workflowTaskSlotsFromEnv(): Partial<WorkerOptions> {
  const raw = process.env.CELLOS_WORKFLOW_TASK_SLOTS;
  if (raw === undefined || raw === '') return {};
  const slots = Number(raw);
  if (!Number.isInteger(slots) || slots < 2)
    throw new Error(`CELLOS_WORKFLOW_TASK_SLOTS must be a whole number of at least 2, not "${raw}"`);
  return { maxConcurrentWorkflowTaskExecutions: slots };
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  main().catch((err) => {
    console.error(err);
    process.exit(1);
  });
}
