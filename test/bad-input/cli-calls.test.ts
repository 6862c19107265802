import { afterAll, beforeAll, describe, expect, inject, it, vi } from 'vitest';
import { main } from '../../src/client/cli';
import { startCampaign } from '../../src/client/campaign-client';
import { pauseSignal, resultsQuery, statusQuery } from '../../src/temporal/messages';
import { testConfig } from '../helpers/configs';
import { runCellos } from '../helpers/processes';
import { openTestEnv, withWorkers, type TemporalTestEnv } from '../helpers/temporal-env';
import { freePort } from '../global-setup';
import { waitFor } from '../helpers/wait';

/**
 * A corpus of bad `cellos` calls. Each must end in a clear "error: …" line naming the problem and
 * an exit code (2: the call itself is wrong, 1: the campaign cannot do it), or be a harmless
 * no-op: never a stack trace, never a changed campaign. Calls run through the CLI's own entry
 * point in-process (fast); a few run the real binary to prove the process-level behaviour.
 */
interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
}

async function cellos(argv: string[], env: Record<string, string> = {}): Promise<CliRun> {
  const saved = { ...process.env };
  Object.assign(process.env, env);
  const out: string[] = [];
  const err: string[] = [];
  const log = vi.spyOn(console, 'log').mockImplementation((...a: unknown[]) => void out.push(a.map(String).join(' ')));
  const error = vi
    .spyOn(console, 'error')
    .mockImplementation((...a: unknown[]) => void err.push(a.map(String).join(' ')));
  process.exitCode = undefined;
  try {
    await main(argv);
    return { code: Number(process.exitCode ?? 0), stdout: out.join('\n'), stderr: err.join('\n') };
  } finally {
    log.mockRestore();
    error.mockRestore();
    process.exitCode = undefined;
    process.env = saved;
  }
}

/** A clear refusal: one "error:" message, no stack trace, nothing on stdout. */
function expectRefusal(run: CliRun, code: number, message: RegExp): void {
  expect(run.stderr).toMatch(/^error: /);
  expect(run.stderr).toMatch(message);
  expect(run.stderr).not.toMatch(/\n\s+at /);
  expect(run.stdout).toBe('');
  expect(run.code).toBe(code);
}

// Nothing here may reach a server: an unreachable address turns any slip into a different error (exit 1).
let unreachable: Record<string, string>;
beforeAll(async () => {
  unreachable = { TEMPORAL_ADDRESS: `127.0.0.1:${await freePort()}` };
});

describe('cellos refuses malformed calls before contacting anything', () => {
  it.each([
    ['an unknown command', ['frobnicate', 'x'], /unknown command "frobnicate"; allowed: start/],
    ['start without a config', ['start'], /start: expected <config.yaml>, got 0 argument/],
    ['status without an id', ['status'], /status: expected <id>, got 0/],
    ['pause without an id', ['pause'], /pause: expected <id>/],
    ['budget without an amount', ['budget', 'campaign-x'], /budget: expected <id> <usd>, got 1/],
    ['an extra argument to status', ['status', 'a', 'b'], /expected <id>, got 2 argument\(s\): \["a","b"\]/],
    ['an argument to list', ['list', 'everything'], /list: expected no arguments, got 1/],
    ['an unknown flag', ['status', 'x', '--verbose'], /Unknown option '--verbose'.*allowed options: --json/],
    ['a flag the command lacks', ['resume', 'x', '--reason', 'y'], /resume: .*'--reason'.*allowed options: none/],
    ['a value flag without its value', ['pause', 'x', '--reason'], /pause: .*--reason/],
    ['--json with --csv', ['results', 'x', '--json', '--csv'], /results: choose one of --json and --csv/],
    ['a word for a budget', ['budget', 'x', 'ten'], /usd: "ten" is not an amount; allowed: a non-negative number/],
    ['a negative budget', ['budget', 'x', '-5'], /budget: Unknown option '-5'/],
    ['a budget in exponent form', ['budget', 'x', '1e3'], /usd: "1e3" is not an amount/],
    ['NaN for a budget', ['budget', 'x', 'NaN'], /usd: "NaN" is not an amount/],
    ['Infinity for a budget', ['budget', 'x', 'Infinity'], /usd: "Infinity" is not an amount/],
    ['a budget with a comma', ['budget', 'x', '12,50'], /usd: "12,50" is not an amount/],
    ['an empty budget', ['budget', 'x', ''], /usd: "" is not an amount/],
    ['a budget with a currency sign', ['budget', 'x', '$100'], /usd: "\$100" is not an amount/],
    ['priority 0', ['priority', 'x', '0'], /priority: "0" is not allowed; give a whole number from 1/],
    ['priority 6', ['priority', 'x', '6'], /priority: "6" is not allowed/],
    ['priority as a word', ['priority', 'x', 'high'], /priority: "high" is not allowed/],
    ['reject without a reason', ['reject', 'x'], /reject: --reason "…" is required/],
    ['a config file that does not exist', ['start', 'no/such/config.yaml'], /cannot read the config file \(ENOENT\)/],
    [
      'a directory for a config',
      ['start', 'examples'],
      /examples is invalid:.*cannot read the config file \(not a regular file\)/s,
    ],
    [
      'an invalid --id',
      ['start', 'examples/demo.yaml', '--id', 'bad id!'],
      /--id: "bad id!" is not a valid campaign id/,
    ],
    ['an over-long --id', ['start', 'examples/demo.yaml', '--id', 'x'.repeat(201)], /is not a valid campaign id/],
    ['--at that is not a time', ['start', 'examples/demo.yaml', '--at', 'tomorrow'], /--at: "tomorrow" is not a time/],
    ['--at in the past', ['start', 'examples/demo.yaml', '--at', '2001-01-01T00:00:00Z'], /--at: .* is in the past/],
    ['schedule without a verb', ['schedule'], /schedule: expected one of create, list/],
    ['schedule create without --cron', ['schedule', 'create', 'examples/demo.yaml'], /--cron .* is required/],
  ])('refuses %s with exit code 2', async (_what, argv, message) => {
    expectRefusal(await cellos(argv as string[], unreachable), 2, message as RegExp);
  });

  it('prints the usage for no arguments or help, and exits 0', async () => {
    for (const argv of [[], ['help'], ['--help']]) {
      const run = await cellos(argv, unreachable);
      expect(run.code).toBe(0);
      expect(run.stdout).toMatch(/^cellos — run autonomous dose-response campaigns/);
    }
  });
});

describe('cellos against campaigns on a server', () => {
  let env: TemporalTestEnv;
  beforeAll(async () => {
    env = await openTestEnv();
  });
  afterAll(async () => {
    await env?.close();
  });

  it('says clearly when the server cannot be reached (the real binary: no stack trace)', async () => {
    const run = await runCellos(['status', 'campaign-demo'], unreachable);
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(
      new RegExp(
        `^error: cannot reach Temporal at ${unreachable.TEMPORAL_ADDRESS} .*Start the dev server with "npm run server" or set TEMPORAL_ADDRESS`,
      ),
    );
    expect(run.stderr).not.toMatch(/\n\s+at /);
  });

  it('names an unknown namespace, the server and the namespaces it has, whatever the command (exit 2)', async () => {
    const namespace = `no-such-namespace-${process.pid}`;
    const where = { TEMPORAL_ADDRESS: env.address, TEMPORAL_NAMESPACE: namespace };
    const message = new RegExp(
      `^error: namespace '${namespace}' does not exist on ${env.address.replace(/\./g, '\\.')}; known: [^.]*\\bdefault\\b.*Set TEMPORAL_NAMESPACE`,
    );
    for (const argv of [
      ['status', 'demo'],
      ['list'],
      ['inventory', '--wait', '5'],
      ['schedule', 'list'],
      ['pause', 'demo'],
    ])
      expectRefusal(await cellos(argv, where), 2, message);
    // The real binary too: one line, no stack trace.
    const run = await runCellos(['status', 'demo'], where);
    expect(run.code).toBe(2);
    expect(run.stderr.trim()).toMatch(message);
    expect(run.stderr.trim().split('\n')).toHaveLength(1);
  });

  it('refuses a malformed call from the real binary with exit code 2', async () => {
    const run = await runCellos(['budget', 'campaign-x', 'lots'], unreachable);
    expect(run.code).toBe(2);
    expect(run.stderr.trim()).toBe(
      'error: usd: "lots" is not an amount; allowed: a non-negative number of US dollars such as 250 or 99.50',
    );
  });

  it('refuses bad calls about running and finished campaigns and changes neither', async () => {
    await withWorkers(env, async (lab) => {
      const cli = {
        TEMPORAL_ADDRESS: inject('temporalAddress'),
        CELLOS_ORCHESTRATION_TASK_QUEUE: lab.orchestrationTaskQueue,
        CELLOS_LAB_TASK_QUEUE: lab.labTaskQueue,
      };
      const opts = { client: env.client, ...lab };
      const finishedConfig = testConfig({ maxIterations: 1 });
      const finished = await startCampaign(opts, finishedConfig, `campaign-${finishedConfig.name}`);
      const finishedResults = await finished.result();
      const runningConfig = testConfig({ maxIterations: 3, secondsPerLabHour: 0.05 });
      const running = await startCampaign(opts, runningConfig, `campaign-${runningConfig.name}`);
      await waitFor(
        () => running.query(statusQuery),
        (s) => s.experiments.running > 0,
      );
      // Paused with nothing in flight, the campaign's status must not move at all while we misbehave.
      await running.signal(pauseSignal, { reason: 'holding still for the bad-input corpus' });
      const still = await waitFor(
        () => running.query(statusQuery),
        (s) => s.state === 'paused' && s.experiments.running === 0 && s.spentUsd > 0,
      );

      // Calls the campaign refuses (exit 1).
      for (const [argv, message] of [
        [['start', 'examples/demo.yaml', '--id', running.workflowId], /a campaign with id ".*" is already running/],
        [['status', 'campaign-never-was'], /no campaign with id "campaign-never-was"/],
        [['budget', running.workflowId, '0.5'], /budget refused: .*below what is already spent/],
        [['budget', running.workflowId, '2000000'], /budget refused: budgetUsd must be at most 1000000/],
        [['approve', running.workflowId], /no batch is waiting for approval/],
        [['confirm', running.workflowId], /no manual step is waiting for confirmation/],
        [['pause', finished.workflowId], /cannot pause campaign ".*": it has already ended \(completed\)/],
        [['resume', finished.workflowId], /cannot resume .*already ended/],
        [['stop', finished.workflowId], /cannot stop .*already ended/],
        [['budget', finished.workflowId, '900'], /already ended/],
        [['priority', finished.workflowId, '1'], /already ended/],
      ] as const)
        expectRefusal(await cellos([...argv], cli), 1, message);

      // Ids that are not ids (exit 2), asked of a real server.
      for (const id of ['../etc/passwd', 'has space', 'x'.repeat(201), 'ünïcode', '', 'campaign-$(reboot)'])
        expectRefusal(await cellos(['status', id], cli), 2, /is not a valid campaign id/);

      // Harmless no-ops (exit 0): pausing a paused campaign keeps the first reason.
      const again = await cellos(['pause', running.workflowId, '--reason', 'a second pause'], cli);
      expect(again.code).toBe(0);
      expect(again.stderr).toBe('');

      expect(await running.query(statusQuery)).toEqual(still);
      expect(await finished.query(resultsQuery)).toEqual(finishedResults);
      expect((await cellos(['status', running.workflowId, '--json'], cli)).stdout).toBe(JSON.stringify(still, null, 2));
      await running.terminate('bad-input corpus done');
    });
  });
});
