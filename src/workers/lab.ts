import { fileURLToPath } from 'node:url';
import { resolve } from 'node:path';
import { NativeConnection, Worker, type WorkerOptions } from '@temporalio/worker';
import { createLabActivities } from '../activities/lab-activities';
import type { LabDriver } from '../lab/driver';
import { createVirtualLab } from '../lab/virtual-lab';
import { temporalSettings } from '../temporal/connection';
import { LAB_TASK_QUEUE, taskQueuesFromEnv } from '../temporal/task-queues';
import { runUntilSignalled } from './run';

/**
 * The lab worker: hardware activities on the lab task queue, on the host wired to the
 * instruments. Today its driver is the virtual lab, whose physical state lives in a SQLite file
 * (CELLOS_LAB_DB, default var/lab/lab.db) so it survives this process, as a real instrument's would.
 */
export const DEFAULT_LAB_DB = resolve('var/lab/lab.db');

export async function createLabWorker(
  options: {
    connection: NativeConnection;
    namespace: string;
    driver: LabDriver;
    taskQueue?: string;
  } & Partial<WorkerOptions>,
): Promise<Worker> {
  const { driver, taskQueue = LAB_TASK_QUEUE, ...rest } = options;
  return Worker.create({
    activities: createLabActivities(driver),
    taskQueue,
    // Instruments do one thing at a time per arm; the virtual lab is cheap, so allow some overlap.
    maxConcurrentActivityTaskExecutions: 16,
    ...rest,
  });
}

async function main(): Promise<void> {
  const settings = temporalSettings();
  const connection = await NativeConnection.connect(settings.connectionOptions);
  const taskQueue = taskQueuesFromEnv().lab;
  const dbPath = process.env.CELLOS_LAB_DB ?? DEFAULT_LAB_DB;
  const driver = createVirtualLab({ dbPath });
  const worker = await createLabWorker({ connection, namespace: settings.namespace, driver, taskQueue });
  console.log(`lab worker polling "${taskQueue}" on ${settings.address}; virtual lab state in ${dbPath}`);
  try {
    await runUntilSignalled(worker, connection);
  } finally {
    await driver.close();
  }
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  main().catch((err) => {
    console.error(err);
    process.exit(1);
  });
}
