import { fileURLToPath } from 'node:url';
import { NativeConnection, Worker, type WorkerOptions } from '@temporalio/worker';
import { createLearnerActivities } from '../activities/learner-activities';
import { temporalSettings } from '../temporal/connection';
import { ORCHESTRATION_TASK_QUEUE, taskQueuesFromEnv } from '../temporal/task-queues';
import { runUntilSignalled } from './run';

/**
 * The orchestration worker: campaign and experiment workflows, and the learner (CPU work, so it
 * lives here and not in workflow code). It touches no hardware and can run anywhere.
 */
export const WORKFLOWS_PATH = fileURLToPath(new URL('../workflows/index.ts', import.meta.url));

export async function createOrchestrationWorker(
  options: { connection: NativeConnection; namespace: string; taskQueue?: string } & Partial<WorkerOptions>,
): Promise<Worker> {
  const { taskQueue = ORCHESTRATION_TASK_QUEUE, ...rest } = options;
  return Worker.create({
    workflowsPath: rest.workflowBundle ? undefined : WORKFLOWS_PATH,
    activities: createLearnerActivities(),
    taskQueue,
    ...rest,
  });
}

async function main(): Promise<void> {
  const settings = temporalSettings();
  const connection = await NativeConnection.connect(settings.connectionOptions);
  const taskQueue = taskQueuesFromEnv().orchestration;
  const worker = await createOrchestrationWorker({ connection, namespace: settings.namespace, taskQueue });
  console.log(`orchestration worker polling "${taskQueue}" on ${settings.address} (namespace ${settings.namespace})`);
  await runUntilSignalled(worker, connection);
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  main().catch((err) => {
    console.error(err);
    process.exit(1);
  });
}
