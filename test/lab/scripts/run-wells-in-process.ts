import type { RawReadout } from '../../../src/domain/types';
import { createVirtualLab } from '../../../src/lab/virtual-lab';
import { type WellPlan, keysOf, runWell } from '../fixtures';

/**
 * One of several processes sharing a lab file in the concurrency test: runs every well of the
 * plan (in an order that depends on the worker number) and prints the readouts by read key.
 */
async function main(): Promise<void> {
  const [dbPath, worker, plansJson] = process.argv.slice(2);
  if (!dbPath || !worker || !plansJson) throw new Error('usage: run-wells-in-process <dbPath> <worker> <plans>');
  const plans = JSON.parse(plansJson) as WellPlan[];
  const shift = Number(worker) * 5;
  const order = plans.map((_, i) => plans[(i + shift) % plans.length] as WellPlan);
  const lab = createVirtualLab({ dbPath, latencyMs: 20 }); // slow enough for the processes to overlap
  const readouts: Record<string, RawReadout> = {};
  for (const plan of order) readouts[keysOf(plan).read] = await runWell(lab, plan);
  await lab.close();
  process.stdout.write(JSON.stringify(readouts));
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
