import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { Client } from '@temporalio/client';
import { resolveCampaignConfig } from '../src/config/campaign-config';
import type { CampaignResults, CampaignStatus } from '../src/domain/campaign-status';
import { startDevServer } from '../src/devserver/dev-server';
import { ensureTemporalCli } from '../src/devserver/temporal-cli';
import { pauseSignal, resumeSignal, setBudgetUpdate, statusQuery } from '../src/temporal/messages';
import { describeLab, inventoryReport, restock } from '../src/client/stockroom-client';
import { incubatorWorkflowId, stockroomWorkflowId } from '../src/temporal/task-queues';
import { CrashLab, delay } from '../test/helpers/crash-harness';
import { freePort } from '../test/global-setup';

/**
 * `npm run fixtures:record`: records the workflow histories the replay tests replay
 * (test/fixtures/histories), from real runs on a throw-away dev server with both workers as
 * processes. One campaign covers continue-as-new, pause and resume, a budget update and a failed
 * (contaminated) experiment; its experiments and the lab's incubator are recorded too, and the
 * lab's stockroom after a few requests. `-- --only-stockroom` records the stockroom alone and
 * replaces just its entry in the manifest (the other fixtures stay as they are).
 *
 * Re-record after a deliberate, incompatible workflow change (see docs/durability.md): the old
 * fixtures stop replaying, which is the point; the new ones pin the new behaviour.
 */
const OUT = resolve('test/fixtures/histories');
const CAMPAIGN_ID = 'campaign-replay-fixture';
const ONLY_STOCKROOM = process.argv.includes('--only-stockroom');

async function main(): Promise<void> {
  const t0 = Date.now();
  const dir = mkdtempSync(join(tmpdir(), 'cellos-record-'));
  const server = await startDevServer({
    port: await freePort(),
    dbFile: join(dir, 'temporal.db'),
    logFile: join(dir, 'temporal.log'),
    // Continue-as-new after every batch or so, so the campaign's history has several runs.
    dynamicConfig: { 'limit.historyCount.suggestContinueAsNew': 120 },
  });
  // Faults are the lab's: its worker runs with a profile that switches them on.
  const lab = await CrashLab.open(server.address, { faults: { contaminationRate: 0.2, transientErrorRate: 0 } });
  try {
    type Entry = { file: string; workflowType: string; workflowId: string; runId: string; note: string };
    const previous = existsSync(join(OUT, 'index.json'))
      ? (JSON.parse(readFileSync(join(OUT, 'index.json'), 'utf8')) as {
          recordedAt: string;
          commit: string;
          histories: Entry[];
        })
      : undefined;
    // The entries kept from an earlier recording keep its time and commit; a new one carries its own.
    const manifest: (Entry & { recordedAt?: string; commit?: string })[] = ONLY_STOCKROOM
      ? (previous?.histories ?? [])
          .filter((h) => h.file !== 'stockroom.json')
          .map((h) => ({ recordedAt: previous!.recordedAt, commit: previous!.commit, ...h }))
      : [];
    // The Temporal CLI writes the standard JSON history format (as the Web UI downloads it).
    const cli = ensureTemporalCli();
    const save = async (file: string, workflowType: string, workflowId: string, runId: string, note: string) => {
      const json = execFileSync(
        cli,
        [
          'workflow',
          'show',
          '--address',
          server.address,
          '--workflow-id',
          workflowId,
          '--run-id',
          runId,
          '--output',
          'json',
        ],
        { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 },
      );
      writeFileSync(join(OUT, file), json);
      manifest.push({
        file,
        workflowType,
        workflowId,
        runId,
        note,
        recordedAt: new Date().toISOString(),
        commit: gitCommit(),
      });
    };
    if (!ONLY_STOCKROOM) {
      const base = resolveCampaignConfig(
        {
          name: 'replay-fixture',
          cellLines: ['U2OS', 'HEK293T'],
          compounds: ['staurosporine'],
          doseRange: { minMicromolar: 0.001, maxMicromolar: 10 },
          assay: 'viability',
          proposer: 'space-filling',
          batchSize: 4,
          controlsPerLine: 1,
          maxIterations: 3,
          budgetUsd: 200,
          seed: 5,
          secondsPerLabHour: 0.05,
          heartbeatTimeoutSeconds: 5,
          failurePause: { maxFailureRate: 1 },
        },
        'replay fixture config',
      );
      // Contamination is drawn per logical plate and well: with this seed some wells fail, every time.
      const config = base;
      const handle = await lab.startCampaign(config, CAMPAIGN_ID);
      await until(
        () => handle.query(statusQuery),
        (s) => s.experiments.running > 0,
      );
      await handle.signal(pauseSignal, { reason: 'recording a pause' });
      await until(
        () => handle.query(statusQuery),
        (s) => s.state === 'paused',
      );
      await handle.executeUpdate(setBudgetUpdate, { args: [{ budgetUsd: 250 }] });
      await handle.signal(resumeSignal);
      const results = (await handle.result()) as CampaignResults;
      const failed = results.outcomes.find((o) => o.status === 'failed');
      const succeeded = results.outcomes.find((o) => o.status === 'succeeded' && !o.proposal.isControl);
      if (results.status.runs < 1) throw new Error('the campaign never continued as new; lower the event limit');
      if (!failed || !succeeded)
        throw new Error('the campaign needs a failed and a succeeded experiment; change the seed');

      rmSync(OUT, { recursive: true, force: true });
      mkdirSync(OUT, { recursive: true });
      const runs = await runsOf(lab.client, CAMPAIGN_ID);
      for (const [i, run] of runs.entries())
        await save(
          `campaign-run-${i + 1}.json`,
          'campaignWorkflow',
          CAMPAIGN_ID,
          run.runId,
          `run ${i + 1} of ${runs.length} (${run.status})`,
        );
      for (const [file, outcome, note] of [
        ['experiment-succeeded.json', succeeded, 'a well that was seeded, dosed and read'],
        ['experiment-failed.json', failed, `a well that failed: ${failed.failure?.type}`],
      ] as const) {
        const [run] = await runsOf(lab.client, outcome.experimentWorkflowId);
        await save(file, 'experimentWorkflow', outcome.experimentWorkflowId, run!.runId, note);
      }
      const plateId = `${CAMPAIGN_ID}/plate-p${String(succeeded.iteration).padStart(3, '0')}`;
      const [plateRun] = await runsOf(lab.client, plateId);
      await save(
        'plate.json',
        'plateWorkflow',
        plateId,
        plateRun!.runId,
        'a plate: seed, attachment, dose, treatment, read',
      );
      const incubatorId = incubatorWorkflowId(lab.labTaskQueue);
      const [incubator] = await runsOf(lab.client, incubatorId);
      if (incubator)
        await save(
          'incubator.json',
          'incubatorWorkflow',
          incubatorId,
          incubator.runId,
          'the lab incubator, still running',
        );
    }
    await recordStockroom(lab, save);
    writeFileSync(
      join(OUT, 'index.json'),
      `${JSON.stringify({ recordedAt: new Date().toISOString(), commit: gitCommit(), histories: manifest }, null, 2)}\n`,
    );
    console.log(
      `recorded ${manifest.length} histories in ${OUT} (${readdirSync(OUT).length - 1} files) in ${((Date.now() - t0) / 1000).toFixed(1)} s`,
    );
  } finally {
    await lab.close();
    await server.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The lab's stockroom workflow after restocks (one repeated under its key), a report, the catalogue and a refused restock. */
async function recordStockroom(
  lab: CrashLab,
  save: (file: string, workflowType: string, workflowId: string, runId: string, note: string) => Promise<void>,
): Promise<void> {
  const opts = {
    client: lab.client,
    orchestrationTaskQueue: lab.env.CELLOS_ORCHESTRATION_TASK_QUEUE,
    labTaskQueue: lab.labTaskQueue,
  };
  await restock(opts, { item: 'tips', amount: 96, lot: 'T-FIXTURE' }, { key: 'fixture-restock-1' });
  await restock(opts, { item: 'tips', amount: 96, lot: 'T-FIXTURE' }, { key: 'fixture-restock-1' });
  await inventoryReport(opts, undefined, { key: 'fixture-report-1' });
  await describeLab(opts);
  await restock(opts, { item: 'unobtainium', amount: 1 }, { key: 'fixture-refused-1' }).catch(() => undefined);
  const workflowId = stockroomWorkflowId(lab.labTaskQueue);
  const [run] = await runsOf(lab.client, workflowId);
  await save(
    'stockroom.json',
    'stockroomWorkflow',
    workflowId,
    run!.runId,
    'the lab stockroom, still running: a restock and its repeat, a report, the catalogue, a refused restock',
  );
}

/** Every run of a workflow id, oldest first (a continued-as-new chain has several). */
async function runsOf(client: Client, workflowId: string): Promise<{ runId: string; status: string }[]> {
  const runs: { runId: string; status: string; start: number }[] = [];
  for await (const wf of client.workflow.list({ query: `WorkflowId = '${workflowId}'` }))
    runs.push({ runId: wf.runId, status: wf.status.name, start: wf.startTime.getTime() });
  return runs.sort((a, b) => a.start - b.start);
}

async function until(query: () => Promise<CampaignStatus>, ok: (s: CampaignStatus) => boolean): Promise<void> {
  for (let i = 0; i < 600; i++) {
    if (ok(await query())) return;
    await delay(100);
  }
  throw new Error('the campaign did not reach the expected state within 60 s');
}

function gitCommit(): string {
  try {
    return execFileSync('git', ['rev-parse', '--short', 'HEAD'], { encoding: 'utf8' }).trim();
  } catch {
    return 'unknown';
  }
}

main().catch((err) => {
  console.error(`recording failed: ${(err as Error).stack ?? err}`);
  process.exitCode = 1;
});
