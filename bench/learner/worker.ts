import { parentPort } from 'node:worker_threads';
import { runTask, type BenchTask } from './tasks';

/** Worker thread: runs benchmark tasks posted by bench.ts and posts their results back. */
parentPort?.on('message', (task: BenchTask) => {
  parentPort!.postMessage(runTask(task));
});
