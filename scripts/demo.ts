import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, openSync } from 'node:fs';
import { resolve } from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { campaignStatus, campaignResults, startCampaign } from '../src/client/campaign-client';
import { campaignUrl } from '../src/client/cli';
import { formatEstimates, formatResults } from '../src/client/format';
import { loadCampaignConfigFile } from '../src/config/campaign-config';
import { LOCAL_ADDRESS, ensureLocalServer, stopLocalServer } from '../src/devserver/local-server';
import { stopProcess } from '../src/devserver/dev-server';
import { clientTelemetryOptions } from '../src/telemetry/client';

/**
 * `npm run demo`: the original cell_OS demo campaign, for real. Starts the dev server if none is
 * running, starts both worker roles as separate processes, runs examples/demo.yaml on a compressed
 * lab clock, prints a line per iteration and the results, then stops the workers. The server stays
 * up for the Web UI unless CI=true.
 */
const CONFIG = resolve('examples/demo.yaml');
const ci = process.env.CI === 'true' || process.env.CI === '1';

async function main(): Promise<void> {
  const t0 = Date.now();
  const { started } = await ensureLocalServer();
  const env = { ...process.env, TEMPORAL_ADDRESS: LOCAL_ADDRESS, TEMPORAL_NAMESPACE: 'default' };
  const workers = [startWorker('orchestration', env), startWorker('lab', env)];
  try {
    await Promise.all(workers.map((w) => w.ready));
    const connection = await Connection.connect({ address: LOCAL_ADDRESS });
    const client = new Client({ connection, namespace: 'default', ...(await clientTelemetryOptions('demo')) });
    const opts = { client };
    const config = loadCampaignConfigFile(CONFIG);
    const campaignId = `campaign-${config.name}`;
    const previous = client.workflow.getHandle(campaignId);
    if ((await previous.describe().catch(() => undefined))?.status.name === 'RUNNING') {
      await previous.terminate('superseded by a new demo run');
    }
    await startCampaign(opts, config, campaignId);
    console.log(
      `started ${campaignId}: ${config.cellLines.join(', ')} × ${config.compounds.join(', ')}, ${config.maxIterations} iterations × ${config.batchSize} experiments`,
    );

    let reported = 0;
    for (;;) {
      const status = await campaignStatus(opts, campaignId);
      while (reported < status.iteration) {
        reported++;
        console.log(
          `iteration ${reported}/${status.maxIterations}: ${status.experiments.done} experiments done, ${status.experiments.failed} failed, $${status.spentUsd.toFixed(2)} of $${status.budgetUsd.toFixed(2)} spent`,
        );
      }
      if (!['running', 'paused'].includes(status.state)) break;
      await new Promise((r) => setTimeout(r, 250));
    }
    const results = await campaignResults(opts, campaignId);
    console.log(`\n${formatResults(results)}\n\n${formatEstimates(results.status.estimates)}\n`);
    console.log(`finished in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
    console.log(`Web UI: ${campaignUrl(campaignId)}  (experiments: search CampaignId="${campaignId}")`);
    await connection.close();
  } finally {
    await Promise.all(workers.map((w) => stopProcess(w.process)));
    if (ci && started) await stopLocalServer();
    else if (started) console.log('The dev server keeps running for the Web UI; stop it with: npm run server:stop');
  }
}

function startWorker(
  role: 'orchestration' | 'lab',
  env: NodeJS.ProcessEnv,
): { process: ChildProcess; ready: Promise<void> } {
  mkdirSync(resolve('var/log'), { recursive: true });
  const log = openSync(resolve(`var/log/${role}-worker.log`), 'a');
  const child = spawn(process.execPath, ['--import', 'tsx', resolve(`src/workers/${role}.ts`)], {
    env,
    stdio: ['ignore', 'pipe', log],
  });
  const ready = new Promise<void>((resolveReady, reject) => {
    child.stdout!.on('data', (chunk: Buffer) => {
      if (chunk.toString().includes('polling')) resolveReady();
    });
    child.once('exit', (code) =>
      reject(new Error(`${role} worker exited (code ${code}); see var/log/${role}-worker.log`)),
    );
  });
  return { process: child, ready };
}

main().catch((err) => {
  console.error(`demo failed: ${(err as Error).message}`);
  process.exitCode = 1;
});
