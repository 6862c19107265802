import type { NativeConnection, Worker } from '@temporalio/worker';

/** Run a worker until SIGINT/SIGTERM (the SDK handles those signals and drains), then close its connection. */
export async function runUntilSignalled(worker: Worker, connection: NativeConnection): Promise<void> {
  try {
    await worker.run();
  } finally {
    await connection.close();
  }
}
