import { join } from 'node:path';
import { runBench } from './bench';

/**
 * `npm run bench:learner` — the learner benchmark. Full: 300 curves per scenario and 5 portfolio
 * campaigns (320 pairs) on worker threads; `--short`: 50 curves and 1 portfolio. Prints the table,
 * the learner's timings and PASS/FAIL per target, and writes JSON to bench/results/.
 * Options: --short, --seed N, --curves N, --portfolios N, --workers N (0 = in-process).
 */

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

const short = process.argv.includes('--short');
const report = await runBench({
  curves: Number(arg('curves') ?? (short ? 50 : 300)),
  portfolios: Number(arg('portfolios') ?? (short ? 1 : 5)),
  seed: Number(arg('seed') ?? 1),
  workers: Number(arg('workers') ?? 2),
  full: !short,
  outDir: join(process.cwd(), 'bench', 'results'),
  log: (line) => console.log(line),
});
console.log('');
console.log(report.table);
console.log('');
console.log(
  `timing: total ${report.timing.totalSeconds.toFixed(0)} s; learner ${report.timing.learnerMsPerBatch.toFixed(1)} ms per single-pair batch, ` +
    `${report.timing.portfolioMsPerBatch.toFixed(0)} ms per 64-pair portfolio batch; 96-well batch from 2,000 observations: ` +
    `median ${report.timing.perfBatchMedianMs.toFixed(0)} ms (first ${report.timing.perfBatchFirstMs.toFixed(0)} ms)`,
);
console.log('');
for (const t of report.targets) console.log(`${t.holds ? 'PASS' : 'FAIL'}  ${t.name}\n      ${t.detail}`);
