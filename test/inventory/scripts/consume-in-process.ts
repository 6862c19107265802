import { InventoryStore, OutOfStockFault } from '../../../src/inventory/inventory-store';
import { usesOf } from '../fixtures';

/**
 * One of several processes sharing a lab file in the concurrency tests. Waits for a common start
 * time (so the processes really overlap), then consumes the measure step of every planned
 * experiment in its own order and prints, per operation key, the receipt or "out of stock".
 */
async function main(): Promise<void> {
  const [dbPath, startAt, experimentsJson] = process.argv.slice(2);
  if (!dbPath || !startAt || !experimentsJson)
    throw new Error('usage: consume-in-process <dbPath> <startAtMs> <experiment ids>');
  const experiments = JSON.parse(experimentsJson) as string[];
  const store = InventoryStore.open(dbPath, { initialStock: [] });
  await new Promise((r) => setTimeout(r, Math.max(0, Number(startAt) - Date.now())));
  const results: Record<string, unknown> = {};
  for (const experiment of experiments) {
    // A pause between steps, as a worker has between activities, so the processes interleave.
    await new Promise((r) => setTimeout(r, 2));
    const operationKey = `${experiment}/measure`;
    try {
      results[operationKey] = store.consume({
        operationKey,
        campaignId: experiment.split('/')[0] ?? 'campaign',
        experimentWorkflowId: experiment,
        use: usesOf({
          campaignId: '',
          experimentWorkflowId: experiment,
          plateId: 'shared-p001',
          well: 'D4',
          compound: '',
          doseMicromolar: 0,
          assay: 'viability',
        }).measure,
      });
    } catch (err) {
      if (!(err instanceof OutOfStockFault)) throw err;
      results[operationKey] = 'out of stock';
    }
  }
  store.close();
  process.stdout.write(JSON.stringify(results));
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
