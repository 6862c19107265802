import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, openSync } from 'node:fs';
import { resolve } from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { campaignStatus, campaignResults, startCampaign } from '../src/client/campaign-client';
import { campaignUrl } from '../src/client/ui-url';
import { formatEstimates, formatResults } from '../src/client/format';
import { fileURLToPath } from 'node:url';
import { loadCampaignConfigFile, type CampaignConfig } from '../src/config/campaign-config';
import { checkConfigAgainstLab } from '../src/config/lab-check';
import { loadLabProfileFile } from '../src/config/lab-profile';
import { ConfigError } from '../src/config/validation';
import { describeLab } from '../src/client/stockroom-client';
import { isTerminal } from '../src/workflows/campaign-state';
import { ensureLocalServer, localPorts, stopLocalServer } from '../src/devserver/local-server';
import { stopProcess } from '../src/devserver/dev-server';
import { clientTelemetryOptions } from '../src/telemetry/client';

/**
 * `npm run demo -- [config.yaml] [--lab-profile FILE]`: runs a campaign to completion, for real.
 * Without arguments it is the original cell_OS demo (examples/demo.yaml on the built-in lab).
 * Starts the dev server if none is running, starts both worker roles as separate processes (the
 * lab worker with the given lab profile), checks the config against the lab, prints a line per
 * iteration and the results, then stops the workers. The server stays up for the Web UI unless
 * CI=true, so the campaign stays browsable.
 */
const ci = process.env.CI === 'true' || process.env.CI === '1';

export function parseDemoArgs(argv: string[]): { configPath: string; profilePath?: string } {
  let configPath: string | undefined;
  let profilePath: string | undefined;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--lab-profile') {
      profilePath = argv[++i];
      if (!profilePath) throw new Error('--lab-profile needs the path of a lab-profile YAML file');
    } else if (arg === '--port' || arg === '--ui-port')
      i++; // read by localPorts
    else if (arg.startsWith('-'))
      throw new Error(
        `unknown option "${arg}"; usage: npm run demo -- [config.yaml] [--lab-profile FILE] [--port N] [--ui-port N]`,
      );
    else if (configPath) throw new Error(`one config at a time (got "${configPath}" and "${arg}")`);
    else configPath = arg;
  }
  return {
    configPath: resolve(configPath ?? 'examples/demo.yaml'),
    ...(profilePath ? { profilePath: resolve(profilePath) } : {}),
  };
}

async function main(): Promise<void> {
  const t0 = Date.now();
  const { configPath, profilePath } = parseDemoArgs(process.argv.slice(2));
  // Everything local is checked before anything starts: a bad config or profile starts nothing.
  const config = loadCampaignConfigFile(configPath);
  if (profilePath) loadLabProfileFile(profilePath);
  const { started, address, uiUrl } = await ensureLocalServer(console.log, localPorts(process.argv.slice(2)));
  process.env.CELLOS_UI_URL ??= uiUrl; // the links printed below point at this server's Web UI
  const env = {
    ...process.env,
    TEMPORAL_ADDRESS: address,
    TEMPORAL_NAMESPACE: 'default',
    ...(profilePath ? { CELLOS_LAB_PROFILE: profilePath } : {}),
  };
  const workers = [startWorker('orchestration', env), startWorker('lab', env)];
  try {
    await Promise.all(workers.map((w) => w.ready));
    const connection = await Connection.connect({ address });
    const client = new Client({ connection, namespace: 'default', ...(await clientTelemetryOptions('demo')) });
    const opts = { client };
    const lab = await describeLab(opts);
    const { problems, warnings } = checkConfigAgainstLab(config, lab);
    if (problems.length > 0)
      throw new ConfigError(`${configPath} (checked against the lab "${lab.labName}")`, problems);
    for (const w of warnings) console.log(`warning: ${w}`);
    const campaignId = `campaign-${config.name}`;
    const previous = client.workflow.getHandle(campaignId);
    if ((await previous.describe().catch(() => undefined))?.status.name === 'RUNNING') {
      await previous.terminate('superseded by a new demo run');
    }
    await startCampaign(opts, config, campaignId);
    console.log(
      `started ${campaignId} on the lab "${lab.labName}": ${describePairs(config)}, ${config.maxIterations} iterations × ${config.batchSize} experiments`,
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
      if (isTerminal(status.state)) break;
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

function describePairs(config: CampaignConfig): string {
  return config.design === 'cross'
    ? `${config.cellLines.join(', ')} × ${config.compounds.join(', ')}`
    : `${config.pairs.length} pairs over ${config.cellLines.length} lines and ${config.compounds.length} compounds`;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === resolve(process.argv[1])) {
  main().catch((err) => {
    console.error(`demo failed: ${(err as Error).message}`);
    process.exitCode = err instanceof ConfigError ? 2 : 1;
  });
}
