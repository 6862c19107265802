import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import {
  armMetrics,
  checkTargets,
  formatTable,
  portfolioMetrics,
  type ArmMetrics,
  type PortfolioMetrics,
  type TargetCheck,
} from './aggregate';
import type { CurveResult } from './arms';
import { measureBatchTime } from './perf';
import type { PortfolioResult } from './portfolio';
import { runTask, type BenchTask, type BenchTaskResult } from './tasks';

/**
 * The learner benchmark as a function: run every task (in worker threads when asked), then
 * aggregate, print and check targets. `run.ts` is the command-line entry; the short test calls
 * this in-process.
 */

export interface BenchOptions {
  curves: number;
  portfolios: number;
  seed: number;
  workers: number;
  full: boolean;
  /** Directory for the JSON results; undefined writes nothing. */
  outDir?: string;
  log?: (line: string) => void;
}

export interface BenchReport {
  options: Omit<BenchOptions, 'log'>;
  metrics: ArmMetrics[];
  portfolio?: PortfolioMetrics;
  targets: TargetCheck[];
  table: string;
  timing: {
    totalSeconds: number;
    perfBatchMedianMs: number;
    perfBatchFirstMs: number;
    learnerMsPerBatch: number;
    portfolioMsPerBatch: number;
  };
  curves: CurveResult[];
  portfolios: PortfolioResult[];
}

const CHUNK = 5;

function tasksFor(o: BenchOptions): BenchTask[] {
  const tasks: BenchTask[] = [];
  // Portfolios first: they are the longest tasks, so starting them early balances the workers.
  for (let i = 0; i < o.portfolios; i++) tasks.push({ kind: 'portfolio', seed: o.seed, index: i });
  for (const scenario of ['base', 'harsh'] as const)
    for (let from = 0; from < o.curves; from += CHUNK)
      tasks.push({ kind: 'curves', scenario, seed: o.seed, from, to: Math.min(o.curves, from + CHUNK) });
  return tasks;
}

async function runInWorkers(tasks: BenchTask[], workers: number, log: (s: string) => void): Promise<BenchTaskResult[]> {
  const results = new Array<BenchTaskResult>(tasks.length);
  const here = dirname(fileURLToPath(import.meta.url));
  let next = 0;
  let done = 0;
  const pool = Array.from(
    { length: Math.max(1, workers) },
    () =>
      // Workers load TypeScript through tsx (registered in the .mjs entry), like the main script.
      new Worker(join(here, 'worker-entry.mjs')),
  );
  await Promise.all(
    pool.map(
      (w) =>
        new Promise<void>((resolve, reject) => {
          const feed = () => {
            if (next >= tasks.length) {
              void w.terminate().then(() => resolve());
              return;
            }
            const i = next++;
            w.once('message', (r: BenchTaskResult) => {
              results[i] = r;
              done++;
              if (done % 10 === 0 || done === tasks.length) log(`  ${done}/${tasks.length} tasks`);
              feed();
            });
            w.postMessage(tasks[i]);
          };
          w.once('error', reject);
          feed();
        }),
    ),
  );
  return results;
}

export async function runBench(o: BenchOptions): Promise<BenchReport> {
  const log = o.log ?? (() => {});
  const t0 = performance.now();
  const tasks = tasksFor(o);
  const results = o.workers > 0 ? await runInWorkers(tasks, o.workers, log) : tasks.map((t) => runTask(t));
  const curves = results
    .flatMap((r) => (r.kind === 'curves' ? r.results : []))
    .sort((a, b) => a.scenario.localeCompare(b.scenario) || a.index - b.index);
  const portfolios = results
    .flatMap((r) => (r.kind === 'portfolio' ? [r.result] : []))
    .sort((a, b) => a.index - b.index);
  // Time the batch target on an otherwise idle process, after the workers are gone.
  const perf = measureBatchTime(5);
  const totalSeconds = (performance.now() - t0) / 1000;
  const metrics = armMetrics(curves);
  const portfolio = portfolios.length ? portfolioMetrics(portfolios) : undefined;
  const learnerMs = curves.flatMap((c) => c.arms.flatMap((a) => a.batchMs ?? []));
  const portfolioMs = portfolios.flatMap((p) => p.batchMs);
  const timing = {
    totalSeconds,
    perfBatchMedianMs: perf.medianMs,
    perfBatchFirstMs: perf.firstMs,
    learnerMsPerBatch: learnerMs.reduce((a, b) => a + b, 0) / Math.max(1, learnerMs.length),
    portfolioMsPerBatch: portfolioMs.reduce((a, b) => a + b, 0) / Math.max(1, portfolioMs.length),
  };
  const targets = checkTargets(metrics, portfolio, {
    ...timing,
    learnerMsPerBatch: timing.learnerMsPerBatch,
    fullRun: o.full,
  });
  const table = formatTable(metrics, portfolio);
  const { log: _log, ...options } = o;
  void _log;
  const report: BenchReport = {
    options,
    metrics,
    ...(portfolio ? { portfolio } : {}),
    targets,
    table,
    timing,
    curves,
    portfolios,
  };
  if (o.outDir) {
    mkdirSync(o.outDir, { recursive: true });
    const file = join(o.outDir, `learner-${o.full ? 'full' : 'short'}-seed${o.seed}.json`);
    writeFileSync(file, JSON.stringify(report, null, 1));
    log(`wrote ${file}`);
  }
  return report;
}
