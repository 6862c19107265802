import { parseArgs } from 'node:util';
import type { CampaignConfig } from '../config/campaign-config';
import { ConfigError } from '../config/config-error';
import {
  CliError,
  approveBatch,
  confirmAction,
  rejectBatch,
  setCampaignPriority,
  campaignIdFor,
  campaignResults,
  campaignView,
  connectClient,
  listCampaigns,
  namespaceNotFound,
  pauseCampaign,
  resumeCampaign,
  setCampaignBudget,
  startCampaign,
  stopCampaign,
  type CampaignClientOptions,
} from './campaign-client';
import {
  csvCell,
  formatEstimatesTable,
  formatInventory,
  formatList,
  formatResults,
  formatSchedules,
  formatStatus,
  resultsCsv,
  resultsPrism,
} from './format';
import { checkCron } from './cron';
import { checkStockroomKey, type StockroomCallOptions } from './stockroom-call';
import { campaignWorkerWarnings } from './workers-check';

// Start-up time matters (people poll `cellos status`): modules only some commands need (the
// stockroom client, config parsing with zod and YAML, schedules, watch, the report) are imported
// inside those commands, so the prebuilt CLI keeps them in chunks that `status` never loads.

export const USAGE = `cellos — run autonomous dose-response campaigns on Temporal

Usage:
  cellos start <config.yaml> [--id ID] [--rerun]   validate a campaign config and start it
                                          (--rerun: start a finished campaign's id again)
  cellos status <id> [--json]             batch, wells, spend, estimates per pair, report path
  cellos watch <id> [--interval S]        live view until the campaign ends: wells, spend, ETA, waits
  cellos pause <id> [--reason TEXT]       no new experiment starts; running ones finish
  cellos resume <id>                      continue a paused campaign
  cellos budget <id> <usd>                change the budget (refused below what is spent)
  cellos stop <id> [--reason TEXT]        running experiments finish, then the campaign ends
  cellos results <id> [--json | --csv | --format prism]   every well's readout, normalised response and cost
  cellos results <id> --estimates [--json | --csv]      the IC50 table: relative and absolute IC50, intervals
  cellos list                             campaigns and their states (waiting ones say so)
  cellos approve <id>                     approve the batch waiting for approval
  cellos reject <id> --reason TEXT        reject it; the learner never proposes those wells again
  cellos confirm <id>                     confirm a manual step (e.g. a plate was loaded)
  cellos priority <id> <1-5>              1 is highest; takes effect for operations not yet queued
  cellos start <config.yaml> --at TIME    start later (ISO 8601, e.g. 2026-11-26T08:00:00Z)
  cellos schedule create <config.yaml> --cron "0 2 * * *" [--id ID]   a recurring campaign
  cellos schedule list | pause <id> | resume <id> | delete <id>   (<id>: schedule-<name> or <name>)
  cellos inventory [--campaign ID] [--json] [--key KEY] [--wait SECONDS]
                                          stock levels and what each campaign used and spent
  cellos restock <item> <amount> [--lot LOT] [--concentration µM] [--key KEY] [--wait SECONDS]
                                          waiting experiments continue; one --key is applied once;
                                          after --wait (default 30 s) it says what is queued, exit 3
  cellos report <id> [--out FILE]         one HTML file: curves, IC50s, spend, failures, plate QC

<id> is a campaign id such as campaign-demo, or just its name (demo).
Temporal is found through TEMPORAL_ADDRESS / TEMPORAL_NAMESPACE / TEMPORAL_API_KEY / TEMPORAL_TLS_*
(default: the local dev server on localhost:7233).`;

type Out = (text: string) => void;

interface CommandSpec {
  positionals: string[];
  options: Record<string, { type: 'string' | 'boolean' }>;
}

const COMMANDS: Record<string, CommandSpec> = {
  start: {
    positionals: ['config.yaml'],
    options: { id: { type: 'string' }, at: { type: 'string' }, rerun: { type: 'boolean' } },
  },
  watch: { positionals: ['id'], options: { interval: { type: 'string' } } },
  approve: { positionals: ['id'], options: {} },
  reject: { positionals: ['id'], options: { reason: { type: 'string' } } },
  confirm: { positionals: ['id'], options: {} },
  priority: { positionals: ['id', 'priority'], options: {} },
  inventory: {
    positionals: [],
    options: {
      json: { type: 'boolean' },
      campaign: { type: 'string' },
      key: { type: 'string' },
      wait: { type: 'string' },
    },
  },
  restock: {
    positionals: ['item', 'amount'],
    options: {
      lot: { type: 'string' },
      concentration: { type: 'string' },
      key: { type: 'string' },
      wait: { type: 'string' },
    },
  },
  'schedule create': { positionals: ['config.yaml'], options: { cron: { type: 'string' }, id: { type: 'string' } } },
  'schedule list': { positionals: [], options: { json: { type: 'boolean' } } },
  'schedule pause': { positionals: ['id'], options: { reason: { type: 'string' } } },
  'schedule resume': { positionals: ['id'], options: {} },
  'schedule delete': { positionals: ['id'], options: {} },
  status: { positionals: ['id'], options: { json: { type: 'boolean' } } },
  pause: { positionals: ['id'], options: { reason: { type: 'string' } } },
  resume: { positionals: ['id'], options: {} },
  budget: { positionals: ['id', 'usd'], options: {} },
  stop: { positionals: ['id'], options: { reason: { type: 'string' } } },
  results: {
    positionals: ['id'],
    options: {
      json: { type: 'boolean' },
      csv: { type: 'boolean' },
      estimates: { type: 'boolean' },
      format: { type: 'string' },
    },
  },
  list: { positionals: [], options: { json: { type: 'boolean' } } },
  report: { positionals: ['id'], options: { out: { type: 'string' } } },
};

/** Parse and validate argv before anything touches Temporal; throws CliError (exit 2) naming the problem. */
export function parseCommand(argv: string[]): {
  command: string;
  args: string[];
  flags: Record<string, string | boolean | undefined>;
} {
  const [first, ...afterFirst] = argv;
  // "schedule <verb>" is one command with a two-word name.
  const twoWord = first === 'schedule' && afterFirst[0] !== undefined;
  const command = twoWord ? `schedule ${afterFirst[0]}` : first;
  const rest = twoWord ? afterFirst.slice(1) : afterFirst;
  if (first === 'schedule' && !twoWord)
    throw new CliError('schedule: expected one of create, list, pause, resume, delete', 2);
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
  const flags: Record<string, string | boolean | undefined> = parsed.values;
  if (command === 'results') flags.format = resultsFormat(flags);
  return { command, args: parsed.positionals, flags };
}

const RESULTS_FORMATS = ['table', 'csv', 'json', 'prism'] as const;

/** `--json`, `--csv` and `--format X` are one choice; prism is a layout of wells, not of estimates. */
function resultsFormat(flags: Record<string, string | boolean | undefined>): (typeof RESULTS_FORMATS)[number] {
  const named = flags.format as string | undefined;
  if (named !== undefined && !(RESULTS_FORMATS as readonly string[]).includes(named))
    throw new CliError(`results: --format "${named}" is not allowed; allowed: ${RESULTS_FORMATS.join(', ')}`, 2);
  const short = flags.json ? 'json' : flags.csv ? 'csv' : undefined;
  if (named !== undefined && short !== undefined && named !== short)
    throw new CliError(`results: choose one of --${short} and --format ${named}`, 2);
  const format = (named ?? short ?? 'table') as (typeof RESULTS_FORMATS)[number];
  if (format === 'prism' && flags.estimates)
    throw new CliError(
      'results: --format prism lays out the wells (dose as X, a Y column per pair); leave out --estimates',
      2,
    );
  return format;
}

/** `watch --interval S`: seconds between redraws, 0.5 to 600 (default 2). */
export function parseInterval(text: string | undefined): number {
  if (text === undefined) return 2_000;
  const seconds = Number(text);
  if (!/^\d+(\.\d+)?$/.test(text.trim()) || seconds < 0.5 || seconds > 600)
    throw new CliError(`--interval: "${text}" is not allowed; give seconds between redraws, from 0.5 to 600`, 2);
  return seconds * 1000;
}

export function parsePriority(text: string): number {
  if (!/^[1-5]$/.test(text.trim())) {
    throw new CliError(`priority: "${text}" is not allowed; give a whole number from 1 (highest) to 5 (lowest)`, 2);
  }
  return Number(text);
}

/** `--at` must be an ISO 8601 time in the future (and within a year). Returns the delay in ms. */
export function parseStartAt(text: string, nowMs = Date.now()): number {
  // Strict ISO 8601 with a zone: a time without one would silently be read as this machine's local time.
  const match = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2})(?:\.\d+)?)?(Z|[+-]\d{2}:\d{2})$/.exec(text);
  const at = Date.parse(text);
  if (!match || Number.isNaN(at)) {
    throw new CliError(
      `--at: "${text}" is not a time; give ISO 8601 with a zone, such as 2026-11-26T08:00:00Z or 2026-11-26T09:00:00+01:00`,
      2,
    );
  }
  // Date.parse rolls 2027-02-30 over to March 2: refuse a calendar date that does not exist.
  const [, y, mo, d, h, mi, sec] = match;
  const day = new Date(Date.UTC(Number(y), Number(mo) - 1, Number(d)));
  if (
    day.getUTCMonth() !== Number(mo) - 1 ||
    day.getUTCDate() !== Number(d) ||
    Number(h) > 23 ||
    Number(mi) > 59 ||
    Number(sec ?? 0) > 59
  )
    throw new CliError(`--at: "${text}" is not a date and time that exists`, 2);
  const delay = at - nowMs;
  if (delay <= 0)
    throw new CliError(`--at: ${text} is in the past; give a future time or leave --at out to start now`, 2);
  if (delay > 366 * 24 * 3600 * 1000) throw new CliError(`--at: ${text} is more than a year away`, 2);
  return delay;
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

/**
 * Refuses (exit 2) what the lab cannot do; returns the lab's warnings (a stock that may run
 * short), which the caller prints once the request was accepted (a refused start prints nothing).
 */
async function checkWithLab(opts: CampaignClientOptions, config: CampaignConfig): Promise<string[]> {
  const { checkConfigAgainstLab } = await import('../config/lab-check');
  const { describeLab } = await import('./stockroom-client');
  const catalogue = await describeLab(opts);
  const { problems, warnings } = checkConfigAgainstLab(config, catalogue);
  if (problems.length > 0)
    throw new ConfigError(`${config.name} (checked against the lab "${catalogue.labName}")`, problems);
  return warnings.map((w) => `warning: ${w}`);
}

export async function runCli(argv: string[], out: Out = console.log): Promise<number> {
  const { command, args, flags } = parseCommand(argv);
  if (command === 'help') {
    out(USAGE);
    return 0;
  }
  // Validate everything local before connecting: a bad config starts nothing.
  const config =
    command === 'start' || command === 'schedule create'
      ? (await import('../config/campaign-config')).loadCampaignConfigFile(args[0]!)
      : undefined;
  const campaignId = config ? campaignIdFor(config, flags.id as string | undefined) : undefined;
  const budget = command === 'budget' ? parseUsd(args[1]!) : undefined;
  const priority = command === 'priority' ? parsePriority(args[1]!) : undefined;
  const restockRequest =
    command === 'restock'
      ? {
          item: args[0]!,
          amount: args[1]!,
          ...(flags.lot !== undefined ? { lot: flags.lot as string } : {}),
          ...(flags.concentration !== undefined ? { stockConcentrationMicromolar: flags.concentration as string } : {}),
        }
      : undefined;
  if (restockRequest) (await import('../inventory/requests')).parseRestockRequest(restockRequest);
  const stockroomCall = command === 'restock' || command === 'inventory' ? parseStockroomCall(flags) : undefined;
  const startDelayMs = command === 'start' && flags.at !== undefined ? parseStartAt(flags.at as string) : undefined;
  const watchInterval = command === 'watch' ? parseInterval(flags.interval as string | undefined) : undefined;
  if (command === 'reject' && !(typeof flags.reason === 'string' && flags.reason.trim() !== ''))
    throw new CliError('reject: --reason "…" is required: the learner and the record need to know why', 2);
  if (command === 'schedule create' && !(typeof flags.cron === 'string' && flags.cron.trim() !== ''))
    throw new CliError(
      'schedule create: --cron "<minute hour day month weekday>" is required, e.g. --cron "0 2 * * *"',
      2,
    );
  if (command === 'schedule create') flags.cron = checkCron(flags.cron as string);

  const client = await connectClient();
  const opts: CampaignClientOptions = { client };
  try {
    return await runCommand(command, args, flags, opts, out, {
      config,
      campaignId,
      budget,
      priority,
      restockRequest,
      stockroomCall,
      startDelayMs,
      watchInterval,
    });
  } catch (err) {
    throw (await namespaceNotFound(client, err)) ?? err;
  } finally {
    await client.connection.close();
  }
}

/** What runCli checked before connecting, for the command to use. */
interface CheckedCall {
  config?: CampaignConfig;
  campaignId?: string;
  budget?: number;
  priority?: number;
  restockRequest?: { item: string; amount: string; lot?: string; stockConcentrationMicromolar?: string };
  stockroomCall?: StockroomCallOptions;
  startDelayMs?: number;
  watchInterval?: number;
}

async function runCommand(
  command: string,
  args: string[],
  flags: Record<string, string | boolean | undefined>,
  opts: CampaignClientOptions,
  out: Out,
  { config, campaignId, budget, priority, restockRequest, stockroomCall, startDelayMs, watchInterval }: CheckedCall,
): Promise<number> {
  switch (command) {
    case 'start': {
      const warnings = await checkWithLab(opts, config!);
      const handle = await startCampaign(opts, config!, campaignId!, startDelayMs, { rerun: flags.rerun === true });
      out(
        startDelayMs
          ? `scheduled ${handle.workflowId} to start at ${new Date(Date.now() + startDelayMs).toISOString()}`
          : `started ${handle.workflowId}`,
      );
      for (const w of warnings) out(w);
      out(`watch:  cellos watch ${handle.workflowId}`);
      out(`web UI: ${(await import('./ui-url')).campaignUrl(handle.workflowId)}`);
      return 0;
    }
    case 'status': {
      const view = await campaignView(opts, args[0]!);
      const warnings =
        view.running && view.status.state !== 'scheduled'
          ? await campaignWorkerWarnings(opts, view.taskQueue, view.status.learnerSettings?.assay)
          : [];
      if (flags.json) out(JSON.stringify(warnings.length > 0 ? { ...view.status, warnings } : view.status, null, 2));
      else out([formatStatus(view.status), ...warnings.map((w) => `warning    ${w}`)].join('\n'));
      return 0;
    }
    case 'watch': {
      const { watchCampaign } = await import('./watch');
      const status = await watchCampaign(opts, args[0]!, (t) => process.stdout.write(t), {
        intervalMs: watchInterval!,
        tty: process.stdout.isTTY === true,
      });
      return status.state === 'failed' ? 1 : 0;
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
      out(`${status.campaignId}: stop requested; running wells finish first, no new ones start`);
      const { renderWatch, watchFrame } = await import('./watch');
      out(renderWatch(await watchFrame(opts, status.campaignId), { stopping: true }));
      out(`follow it to the end: cellos watch ${status.campaignId}`);
      return 0;
    }
    case 'results': {
      const results = await campaignResults(opts, args[0]!);
      const format = flags.format as string;
      if (flags.estimates) {
        // The refit (the learner) is loaded only for --estimates.
        const { estimatesTable, estimatesCsv } = await import('../report/estimates');
        const t = estimatesTable(results);
        out(
          format === 'json'
            ? JSON.stringify(t, null, 2)
            : format === 'csv'
              ? estimatesCsv(t, csvCell)
              : formatEstimatesTable(t),
        );
        return 0;
      }
      out(
        format === 'json'
          ? JSON.stringify(results, null, 2)
          : format === 'csv'
            ? resultsCsv(results)
            : format === 'prism'
              ? resultsPrism(results)
              : formatResults(results),
      );
      return 0;
    }
    case 'list': {
      const list = await listCampaigns(opts);
      // Campaigns still running need workers: say so when no worker listens on this CLI's queues.
      const warnings = list.some((c) => c.temporalStatus === 'RUNNING')
        ? await campaignWorkerWarnings(opts, undefined, undefined)
        : [];
      if (flags.json) out(JSON.stringify(list, null, 2));
      else out([formatList(list), ...warnings.map((w) => `warning: ${w}`)].join('\n'));
      return 0;
    }
    case 'approve': {
      const r = await approveBatch(opts, args[0]!);
      out(`approved: ${r.approvedWells} wells go to the lab`);
      return 0;
    }
    case 'reject': {
      const r = await rejectBatch(opts, args[0]!, (flags.reason as string).trim());
      out(`rejected ${r.rejectedWells} wells; the learner will propose another batch`);
      return 0;
    }
    case 'confirm': {
      const r = await confirmAction(opts, args[0]!);
      out(`confirmed: ${r.confirmed}`);
      return 0;
    }
    case 'priority': {
      const r = await setCampaignPriority(opts, args[0]!, priority!);
      out(`priority changed from ${r.previousPriorityKey} to ${r.priorityKey} (1 is highest)`);
      return 0;
    }
    case 'inventory': {
      const { inventoryReport } = await import('./stockroom-client');
      const report = await inventoryReport(opts, flags.campaign as string | undefined, stockroomCall);
      out(flags.json ? JSON.stringify(report, null, 2) : formatInventory(report));
      return 0;
    }
    case 'restock': {
      const { restock } = await import('./stockroom-client');
      const record = await restock(opts, restockRequest!, stockroomCall);
      out(
        `restocked ${record.item}: ${record.levelBefore} → ${record.levelAfter} ${record.unit}${record.lot ? ` (lot ${record.lot})` : ''}`,
      );
      return 0;
    }
    case 'schedule create': {
      const scheduleId = (flags.id as string | undefined) ?? `schedule-${config!.name}`;
      const warnings = await checkWithLab(opts, config!);
      const { createCampaignSchedule } = await import('./schedules');
      await createCampaignSchedule(opts, config!, scheduleId, flags.cron as string);
      out(`created schedule ${scheduleId} (${flags.cron as string}); each run starts campaign-${config!.name}-<time>`);
      for (const w of warnings) out(w);
      return 0;
    }
    case 'schedule list': {
      const { listCampaignSchedules } = await import('./schedules');
      const list = await listCampaignSchedules(opts);
      out(flags.json ? JSON.stringify(list, null, 2) : formatSchedules(list));
      return 0;
    }
    case 'schedule pause': {
      const { pauseCampaignSchedule } = await import('./schedules');
      out(`paused schedule ${await pauseCampaignSchedule(opts, args[0]!, flags.reason as string | undefined)}`);
      return 0;
    }
    case 'schedule resume': {
      const { unpauseCampaignSchedule } = await import('./schedules');
      out(`resumed schedule ${await unpauseCampaignSchedule(opts, args[0]!)}`);
      return 0;
    }
    case 'schedule delete': {
      const { deleteCampaignSchedule } = await import('./schedules');
      out(`deleted schedule ${await deleteCampaignSchedule(opts, args[0]!)}`);
      return 0;
    }
    case 'report': {
      const { reportCommand } = await import('./report-command');
      const r = await reportCommand(opts, args[0]!, flags.out as string | undefined);
      out(`wrote the report of ${r.pairs} pair(s) to ${r.path}\nopen: ${r.url}`);
      return 0;
    }
    default:
      throw new CliError(`unknown command "${command}"`, 2);
  }
}

/** `--key` and `--wait SECONDS` of the stockroom commands (1 ms to 1 hour), checked before connecting. */
export function parseStockroomCall(flags: Record<string, string | boolean | undefined>): StockroomCallOptions {
  const call: StockroomCallOptions = {};
  if (typeof flags.key === 'string') call.key = checkStockroomKey(flags.key);
  if (typeof flags.wait === 'string') {
    const text = flags.wait.trim();
    const seconds = /^\d+(\.\d+)?$/.test(text) ? Number(text) : Number.NaN;
    if (!(seconds >= 0.001 && seconds <= 3600))
      throw new CliError(
        `--wait: "${flags.wait.slice(0, 40)}" is not allowed; give the seconds to wait for the lab, from 0.001 to 3600 (default 30)`,
        2,
      );
    call.waitMs = seconds * 1000;
  }
  return call;
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
