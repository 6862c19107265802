import { parseArgs } from 'node:util';
import { loadCampaignConfigFile } from '../config/campaign-config';
import { ConfigError } from '../config/validation';
import { webUiUrl, temporalSettings } from '../temporal/connection';
import {
  CliError,
  campaignIdFor,
  campaignResults,
  campaignStatus,
  connectClient,
  listCampaigns,
  pauseCampaign,
  resumeCampaign,
  setCampaignBudget,
  startCampaign,
  stopCampaign,
  type CampaignClientOptions,
} from './campaign-client';
import { formatList, formatResults, formatStatus, resultsCsv } from './format';

export const USAGE = `cellos — run autonomous dose-response campaigns on Temporal

Usage:
  cellos start <config.yaml> [--id ID]    validate a campaign config and start it
  cellos status <id> [--json]             iteration, experiments, spend, estimates per pair
  cellos pause <id> [--reason TEXT]       no new experiment starts; running ones finish
  cellos resume <id>                      continue a paused campaign
  cellos budget <id> <usd>                change the budget (refused below what is spent)
  cellos stop <id> [--reason TEXT]        running experiments finish, then the campaign ends
  cellos results <id> [--json | --csv]    every experiment's readout, normalised response and cost
  cellos list                             campaigns and their states

<id> is a campaign id such as campaign-demo, or just its name (demo).
Temporal is found through TEMPORAL_ADDRESS / TEMPORAL_NAMESPACE / TEMPORAL_API_KEY / TEMPORAL_TLS_*
(default: the local dev server on localhost:7233).`;

type Out = (text: string) => void;

interface CommandSpec {
  positionals: string[];
  options: Record<string, { type: 'string' | 'boolean' }>;
}

const COMMANDS: Record<string, CommandSpec> = {
  start: { positionals: ['config.yaml'], options: { id: { type: 'string' } } },
  status: { positionals: ['id'], options: { json: { type: 'boolean' } } },
  pause: { positionals: ['id'], options: { reason: { type: 'string' } } },
  resume: { positionals: ['id'], options: {} },
  budget: { positionals: ['id', 'usd'], options: {} },
  stop: { positionals: ['id'], options: { reason: { type: 'string' } } },
  results: { positionals: ['id'], options: { json: { type: 'boolean' }, csv: { type: 'boolean' } } },
  list: { positionals: [], options: { json: { type: 'boolean' } } },
};

/** Parse and validate argv before anything touches Temporal; throws CliError (exit 2) naming the problem. */
export function parseCommand(argv: string[]): {
  command: string;
  args: string[];
  flags: Record<string, string | boolean | undefined>;
} {
  const [command, ...rest] = argv;
  if (command === undefined || command === 'help' || command === '--help' || command === '-h') {
    return { command: 'help', args: [], flags: {} };
  }
  const spec = COMMANDS[command];
  if (!spec)
    throw new CliError(`unknown command "${command}"; allowed: ${Object.keys(COMMANDS).join(', ')}\n\n${USAGE}`, 2);
  let parsed;
  try {
    parsed = parseArgs({ args: rest, options: spec.options, allowPositionals: true, strict: true });
  } catch (err) {
    const allowed = Object.keys(spec.options).map((o) => `--${o}`);
    throw new CliError(`${command}: ${(err as Error).message}; allowed options: ${allowed.join(', ') || 'none'}`, 2);
  }
  if (parsed.positionals.length !== spec.positionals.length) {
    throw new CliError(
      `${command}: expected ${spec.positionals.map((p) => `<${p}>`).join(' ') || 'no arguments'}, got ${parsed.positionals.length} argument(s): ${JSON.stringify(parsed.positionals)}`,
      2,
    );
  }
  if (parsed.values.json && parsed.values.csv) throw new CliError(`${command}: choose one of --json and --csv`, 2);
  return { command, args: parsed.positionals, flags: parsed.values };
}

/** Strictly parse a USD amount: digits with an optional decimal part, nothing else. */
export function parseUsd(text: string): number {
  if (!/^\d+(\.\d+)?$/.test(text.trim())) {
    throw new CliError(
      `usd: "${text}" is not an amount; allowed: a non-negative number of US dollars such as 250 or 99.50`,
      2,
    );
  }
  return Number(text);
}

export async function runCli(argv: string[], out: Out = console.log): Promise<number> {
  const { command, args, flags } = parseCommand(argv);
  if (command === 'help') {
    out(USAGE);
    return 0;
  }
  // Validate everything local before connecting: a bad config starts nothing.
  const config = command === 'start' ? loadCampaignConfigFile(args[0]!) : undefined;
  const campaignId = config ? campaignIdFor(config, flags.id as string | undefined) : undefined;
  const budget = command === 'budget' ? parseUsd(args[1]!) : undefined;

  const client = await connectClient();
  const opts: CampaignClientOptions = { client };
  try {
    switch (command) {
      case 'start': {
        const handle = await startCampaign(opts, config!, campaignId!);
        out(`started ${handle.workflowId}`);
        out(`watch:  cellos status ${handle.workflowId}`);
        out(`web UI: ${campaignUrl(handle.workflowId)}`);
        return 0;
      }
      case 'status': {
        const status = await campaignStatus(opts, args[0]!);
        out(flags.json ? JSON.stringify(status, null, 2) : formatStatus(status));
        return 0;
      }
      case 'pause': {
        const status = await pauseCampaign(opts, args[0]!, flags.reason as string | undefined);
        out(
          `${status.campaignId}: pause requested; ${status.experiments.running} running experiment(s) will finish, no new ones start`,
        );
        return 0;
      }
      case 'resume': {
        const status = await resumeCampaign(opts, args[0]!);
        out(`${status.campaignId}: resumed`);
        return 0;
      }
      case 'budget': {
        const result = await setCampaignBudget(opts, args[0]!, budget!);
        out(
          `budget changed from $${result.previousBudgetUsd.toFixed(2)} to $${result.budgetUsd.toFixed(2)} ($${result.spentUsd.toFixed(2)} spent)`,
        );
        return 0;
      }
      case 'stop': {
        const status = await stopCampaign(opts, args[0]!, flags.reason as string | undefined);
        out(
          `${status.campaignId}: stop requested; ${status.experiments.running} running experiment(s) will finish first`,
        );
        return 0;
      }
      case 'results': {
        const results = await campaignResults(opts, args[0]!);
        out(flags.json ? JSON.stringify(results, null, 2) : flags.csv ? resultsCsv(results) : formatResults(results));
        return 0;
      }
      case 'list': {
        const list = await listCampaigns(opts);
        out(flags.json ? JSON.stringify(list, null, 2) : formatList(list));
        return 0;
      }
      default:
        throw new CliError(`unknown command "${command}"`, 2);
    }
  } finally {
    await client.connection.close();
  }
}

export function campaignUrl(workflowId: string): string {
  return `${webUiUrl()}/namespaces/${encodeURIComponent(temporalSettings().namespace)}/workflows/${encodeURIComponent(workflowId)}`;
}

/** Entry point: prints errors for people (no stack traces for expected problems) and sets the exit code. */
export async function main(argv = process.argv.slice(2)): Promise<void> {
  try {
    process.exitCode = await runCli(argv);
  } catch (err) {
    if (err instanceof ConfigError) {
      console.error(`error: ${err.message}`);
      process.exitCode = 2;
    } else if (err instanceof CliError) {
      console.error(`error: ${err.message}`);
      process.exitCode = err.exitCode;
    } else {
      console.error(err);
      process.exitCode = 1;
    }
  }
}
