import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { randomUUID } from 'node:crypto';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { findTemporalCli } from '../../src/devserver/temporal-cli';
import type { CampaignResults, CampaignStatus } from '../../src/domain/campaign-status';
import { ENCRYPTED_ENCODING } from '../../src/temporal/codec';
import { freePort } from '../global-setup';
import { runCellos, startWorkerProcess, stopWorkerProcess, type WorkerProcess } from '../helpers/processes';
import { waitFor } from '../helpers/wait';
import { newKey, writeKeysFile } from './keys';

/**
 * Encryption, metrics and traces as an operator runs them: both worker roles and the CLI as real
 * processes with a codec keys file, a Prometheus port each and a trace file each; one small
 * campaign; then the server's history read with the Temporal CLI (which has no codec).
 */
const run = promisify(execFile);
const id = randomUUID().slice(0, 8);
const dir = mkdtempSync(join(tmpdir(), 'cellos-telemetry-'));
const k1 = newKey();
const keysFile = writeKeysFile('k1', { k1 }, dir);
const address = inject('temporalAddress');
const orchestrationTaskQueue = `tel-orchestration-${id}`;
const env = {
  TEMPORAL_ADDRESS: address,
  TEMPORAL_NAMESPACE: 'default',
  CELLOS_ORCHESTRATION_TASK_QUEUE: orchestrationTaskQueue,
  CELLOS_LAB_TASK_QUEUE: `tel-lab-${id}`,
  CELLOS_LAB_DB: join(dir, 'lab.db'),
  CELLOS_CODEC_KEYS_FILE: keysFile,
  CELLOS_METRICS_PORT: '0',
};
const traceFile = (role: string) => join(dir, `traces-${role}.jsonl`);
const campaignId = `campaign-tel-${id}`;
const CELL_LINES = ['U2OS', 'HEK293T'];
const COMPOUND = 'staurosporine';
let workers: WorkerProcess[] = [];
let results: CampaignResults;

function writeConfig(name: string, extra = ''): string {
  const path = join(dir, `${name}.yaml`);
  writeFileSync(
    path,
    `name: ${name}\ncellLines: [${CELL_LINES.join(', ')}]\ncompounds: [${COMPOUND}]\n` +
      `doseRange: { minMicromolar: 0.001, maxMicromolar: 10 }\nassay: viability\nbatchSize: 2\nmaxIterations: 1\n` +
      `budgetUsd: 100\nseed: 7\nsecondsPerLabHour: 0.02\ncontrolsPerLine: 1\nproposer: space-filling\n${extra}`,
  );
  return path;
}

const cli = (args: string[], extra: NodeJS.ProcessEnv = {}) =>
  runCellos(args, { ...env, CELLOS_TRACES_FILE: traceFile('cli'), ...extra });

function metricsUrl(worker: WorkerProcess): string {
  const match = /metrics on (http:\/\/\S+\/metrics)/.exec(worker.output.join(''));
  if (!match) throw new Error(`no metrics address in ${worker.role} worker output: ${worker.output.join('')}`);
  return match[1]!;
}

beforeAll(async () => {
  workers = [
    startWorkerProcess('orchestration', { ...env, CELLOS_TRACES_FILE: traceFile('orchestration') }),
    startWorkerProcess('lab', { ...env, CELLOS_TRACES_FILE: traceFile('lab') }),
  ];
  await Promise.all(workers.map((w) => w.ready));
  const start = await cli(['start', writeConfig(`tel-${id}`), '--id', campaignId]);
  expect(start.stderr).toBe('');
  expect(start.code).toBe(0);
  await waitFor(
    async () => JSON.parse((await cli(['status', campaignId, '--json'])).stdout) as CampaignStatus,
    (s) => !['running', 'paused'].includes(s.state),
    120_000,
  );
  results = JSON.parse((await cli(['results', campaignId, '--json'])).stdout) as CampaignResults;
}, 300_000);

afterAll(async () => {
  await Promise.all(workers.map((w) => stopWorkerProcess(w)));
});

/** `temporal workflow show --output json`: what anyone with access to the server (and no keys) sees. */
async function history(workflowId: string, extra: string[] = []): Promise<string> {
  const { stdout } = await run(
    findTemporalCli()!,
    ['workflow', 'show', '--workflow-id', workflowId, '--address', address, '--output', 'json', ...extra],
    { maxBuffer: 64 * 1024 * 1024 },
  );
  return stdout;
}

interface JsonPayload {
  metadata?: Record<string, string>;
  data?: string;
}

/** Every payload in a history, with where it sits ("header", "searchAttributes" or "payload"). */
function payloads(
  node: unknown,
  where: 'payload' | 'header' | 'searchAttributes' | 'localActivityMarker' | 'patchMarker' = 'payload',
): [string, JsonPayload][] {
  if (Array.isArray(node)) return node.flatMap((n) => payloads(n, where));
  if (!node || typeof node !== 'object') return [];
  const record = node as Record<string, unknown>;
  if (record.metadata && typeof record.metadata === 'object' && 'data' in record)
    return [[where, record as JsonPayload]];
  // A local activity's marker: its result is the SDK's (encoded), its `data` is the Temporal core's
  // own bookkeeping (sequence, attempt, activity type, times), written in clear outside the codec.
  // A patched() marker: the patch id and whether it is deprecated, written by the core in clear.
  if (record.markerName === 'core_patch') return payloads(record.details, 'patchMarker');
  if (record.markerName === 'core_local_activity') {
    const details = (record.details ?? {}) as Record<string, unknown>;
    return Object.entries(details).flatMap(([key, value]) =>
      payloads(value, key === 'data' ? 'localActivityMarker' : where),
    );
  }
  return Object.entries(record).flatMap(([key, value]) =>
    payloads(value, key === 'header' ? 'header' : key === 'searchAttributes' ? 'searchAttributes' : where),
  );
}

const decoded = (text: string | undefined) => Buffer.from(text ?? '', 'base64').toString('utf8');

/** The history's text plus every base64 value in it decoded, so "in clear" includes trivially decodable. */
function everythingReadable(json: string): string {
  return [
    json,
    ...payloads(JSON.parse(json)).flatMap(([, p]) => [
      decoded(p.data),
      ...Object.values(p.metadata ?? {}).map(decoded),
    ]),
  ].join('\n');
}

function secrets(): string[] {
  const doses = results.outcomes.filter((o) => !o.proposal.isControl).map((o) => String(o.proposal.doseMicromolar));
  const signals = results.outcomes.map((o) => String(o.readout?.signal));
  // Short numbers (0.001) also occur in timestamps; the proposer's doses and the readouts have many digits.
  return [
    ...CELL_LINES,
    COMPOUND,
    'doseMicromolar',
    '"signal":',
    ...[...doses, ...signals].filter((s) => s.length >= 6),
  ];
}

describe('encrypted payloads', () => {
  it('the campaign ran and its results read back in clear through the codec (the CLI has the keys)', () => {
    expect(results.status.state).toBe('completed');
    expect(results.outcomes).toHaveLength(4);
    expect(results.outcomes.every((o) => o.status === 'succeeded')).toBe(true);
    expect(results.outcomes.some((o) => o.proposal.compound === COMPOUND)).toBe(true);
  });

  it('keeps compound names, doses and readouts out of the histories the server stores', async () => {
    const experiment = results.outcomes.find((o) => !o.proposal.isControl)!.experimentWorkflowId;
    for (const workflowId of [campaignId, experiment]) {
      const json = await history(workflowId);
      const all = payloads(JSON.parse(json));
      // Every payload the SDK encodes (inputs, results, signals, updates, summaries, failures) is ciphertext.
      const data = all.filter(([where]) => where === 'payload');
      expect(data.length).toBeGreaterThan(3);
      for (const [, p] of data) expect(decoded(p.metadata?.encoding)).toBe(ENCRYPTED_ENCODING);
      // The core's marker records of local activities (the learner, the report) hold only these fields.
      const CORE_MARKER_FIELDS = [
        'seq',
        'attempt',
        'activity_id',
        'activity_type',
        'complete_time',
        'backoff',
        'original_schedule_time',
      ];
      for (const [, p] of all.filter(([where]) => where === 'patchMarker'))
        for (const field of Object.keys(JSON.parse(decoded(p.data)) as object))
          expect(['id', 'deprecated']).toContain(field);
      for (const [, p] of all.filter(([where]) => where === 'localActivityMarker'))
        for (const field of Object.keys(JSON.parse(decoded(p.data)) as object))
          expect(CORE_MARKER_FIELDS).toContain(field);
      const readable = everythingReadable(json);
      for (const secret of secrets()) {
        // On failure, say where in the history the secret stands in clear.
        const at = readable.indexOf(secret);
        const where = at < 0 ? '' : readable.slice(Math.max(0, at - 400), at + 100);
        expect(where, `${workflowId} shows "${secret}"`).toBe('');
      }
      // Search attributes are stored in clear: with encryption on there are no name-bearing ones.
      expect(json).not.toMatch(/"(CellLine|Compound)"/);
    }
  });

  it('shows the same history decoded through the codec server to a holder of the token, and refuses others (401)', async () => {
    const port = await freePort();
    const token = `token-${randomUUID()}`;
    const server: ChildProcess = spawn(
      process.execPath,
      ['--import', 'tsx', resolve('src/temporal/codec/codec-server.ts'), '--port', String(port)],
      { env: { ...process.env, ...env, CELLOS_CODEC_TOKEN: token }, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    try {
      await new Promise<void>((ok, fail) => {
        server.stdout!.on('data', (c: Buffer) => c.toString().includes('codec server on') && ok());
        server.once('exit', (code) => fail(new Error(`codec server exited (${code})`)));
      });
      const endpoint = `http://127.0.0.1:${port}`;
      const json = await history(campaignId, ['--codec-endpoint', endpoint, '--codec-auth', `Bearer ${token}`]);
      const readable = everythingReadable(json);
      expect(readable).toContain(COMPOUND);
      expect(readable).toContain('U2OS');

      const encrypted = payloads(JSON.parse(await history(campaignId))).find(([w]) => w === 'payload')![1];
      const body = JSON.stringify({ payloads: [encrypted] });
      const refused = await fetch(`${endpoint}/decode`, { method: 'POST', body });
      expect(refused.status).toBe(401);
      const allowed = await fetch(`${endpoint}/decode`, {
        method: 'POST',
        body,
        headers: { Authorization: `Bearer ${token}` },
      });
      expect(allowed.status).toBe(200);
    } finally {
      server.kill('SIGTERM');
    }
  });

  it('still reads payloads written under the old key after a rotation, and says which key is missing without it', async () => {
    const k2 = newKey();
    const rotated = writeKeysFile('k2', { k1, k2 }, mkdtempSync(join(tmpdir(), 'cellos-rotated-')));
    const after = await cli(['results', campaignId, '--json'], { CELLOS_CODEC_KEYS_FILE: rotated });
    expect(after.code).toBe(0);
    expect((JSON.parse(after.stdout) as CampaignResults).outcomes).toEqual(results.outcomes);

    const onlyNew = writeKeysFile('k2', { k2 }, mkdtempSync(join(tmpdir(), 'cellos-rotated-')));
    const without = await cli(['results', campaignId, '--json'], { CELLOS_CODEC_KEYS_FILE: onlyNew });
    expect(without.code).not.toBe(0);
    expect(without.stderr).toMatch(/encrypted with key "k1"/);
  });
});

describe('metrics', () => {
  const scrape = async (worker: WorkerProcess) => (await fetch(metricsUrl(worker))).text();
  const sample = (text: string, name: string, labels: Record<string, string> = {}): number[] =>
    text
      .split('\n')
      .filter((line) => line.startsWith(`${name}{`) || line.startsWith(`${name} `))
      .filter((line) => Object.entries(labels).every(([k, v]) => line.includes(`${k}="${v}"`)))
      .map((line) => Number(line.slice(line.lastIndexOf(' ') + 1)));

  it("serves the Temporal runtime's series on each worker's port: schedule-to-start latency per task queue, slots in use", async () => {
    const [orchestration, lab] = await Promise.all(workers.map(scrape));
    const liquidHandler = `${env.CELLOS_LAB_TASK_QUEUE}-liquid-handler`;
    expect(
      sample(lab!, 'temporal_activity_schedule_to_start_latency_count', { task_queue: liquidHandler })[0],
    ).toBeGreaterThanOrEqual(2); // the plate's seed and dose runs
    expect(
      sample(lab!, 'temporal_worker_task_slots_used', { task_queue: liquidHandler, worker_type: 'ActivityWorker' }),
    ).toEqual([0]);
    expect(
      sample(lab!, 'temporal_worker_task_slots_available', {
        task_queue: liquidHandler,
        worker_type: 'ActivityWorker',
      }),
    ).toEqual([1]);
    const orchestrationTasks = sample(orchestration!, 'temporal_workflow_task_schedule_to_start_latency_count', {
      task_queue: orchestrationTaskQueue,
    });
    expect(orchestrationTasks[0]).toBeGreaterThan(0);
    expect(
      sample(orchestration!, 'temporal_worker_task_slots_used', { task_queue: orchestrationTaskQueue }).length,
    ).toBeGreaterThan(0);
  });

  it("serves the lab's series beside them: wells done, spend matching the campaign's, instrument busy time", async () => {
    const lab = await scrape(workers[1]!);
    expect(sample(lab, 'cellos_lab_wells_total', { outcome: 'done' })).toEqual([4]);
    const spent = sample(lab, 'cellos_lab_spend_usd_total', { campaign: campaignId }).reduce((a, b) => a + b, 0);
    // Lab operations spend what the wells cost; the empty wells of the plate are charged to the campaign, not to an operation.
    expect(spent).toBeCloseTo(
      results.outcomes.reduce((s, o) => s + o.costUsd, 0),
      2,
    );
    expect(sample(lab, 'cellos_lab_instrument_busy_seconds_total', { instrument: 'plate-reader' })[0]).toBeGreaterThan(
      0,
    );
    expect(sample(lab, 'cellos_lab_waiting_experiments', { kind: 'stock' })).toEqual([0]);
    expect(lab).not.toContain(COMPOUND);
  });

  it('counts campaigns waiting for people on the orchestration worker', async () => {
    const waiting = `campaign-tel-${id}-approval`;
    const start = await cli(['start', writeConfig(`tel-${id}-approval`, 'approval: required\n'), '--id', waiting]);
    expect(start.code).toBe(0);
    try {
      await waitFor(
        async () => JSON.parse((await cli(['status', waiting, '--json'])).stdout) as CampaignStatus,
        (s) => s.state === 'awaiting approval',
      );
      // The gauge is read from visibility at scrape time (cached 5 s).
      const gauge = await waitFor(
        async () => sample(await scrape(workers[0]!), 'cellos_campaigns', { state: 'awaiting approval' })[0],
        (n) => n === 1,
        30_000,
      );
      expect(gauge).toBe(1);
    } finally {
      await cli(['stop', waiting]);
    }
  });
});

describe('traces', () => {
  interface SpanLine {
    traceId: string;
    spanId: string;
    parentSpanId?: string;
    name: string;
    service: string;
  }
  const spans = (): SpanLine[] =>
    ['cli', 'orchestration', 'lab']
      .map(traceFile)
      .filter(existsSync)
      .flatMap((f) => readFileSync(f, 'utf8').trim().split('\n').filter(Boolean))
      .map((line) => JSON.parse(line) as SpanLine);

  it("runs one trace from the CLI's start through the campaign and its plate to a lab activity", async () => {
    // Workflow spans leave the sandbox through a sink after each activation: give them a moment.
    const chain = await waitFor(
      async () => {
        const all = spans();
        const byId = new Map(all.map((s) => [s.spanId, s]));
        const start = all.find((s) => s.service === 'cellos-cli' && s.name === 'StartWorkflow:campaignWorkflow');
        const leaf = all.find((s) => s.traceId === start?.traceId && s.name === 'RunActivity:seedPlate');
        const path: string[] = [];
        for (let s = leaf; s; s = s.parentSpanId ? byId.get(s.parentSpanId) : undefined)
          path.unshift(`${s.service} ${s.name}`);
        return path;
      },
      (path) => path[0] === 'cellos-cli StartWorkflow:campaignWorkflow',
      20_000,
    );
    expect(chain).toEqual([
      'cellos-cli StartWorkflow:campaignWorkflow',
      'cellos-orchestration RunWorkflow:campaignWorkflow',
      'cellos-orchestration StartChildWorkflow:plateWorkflow',
      'cellos-orchestration RunWorkflow:plateWorkflow',
      'cellos-orchestration StartActivity:seedPlate',
      'cellos-lab RunActivity:seedPlate',
    ]);
  });
});

describe('encrypted failures', () => {
  it('keeps failure messages (a contaminated well names its cell line) out of the histories, yet the campaign reads them', async () => {
    const failing = `campaign-tel-${id}-contaminated`;
    // Contamination is the lab's: a second lab, whose worker's profile contaminates every well.
    const profilePath = join(dir, 'contaminated-lab.yaml');
    writeFileSync(profilePath, 'name: contaminated\nfaults:\n  contaminationRate: 1\n');
    const labEnv = {
      ...env,
      CELLOS_LAB_TASK_QUEUE: `tel-lab-${id}-contaminated`,
      CELLOS_LAB_DB: join(dir, 'contaminated-lab.db'),
      CELLOS_LAB_PROFILE: profilePath,
      CELLOS_METRICS_PORT: '',
    };
    const contaminatedLab = startWorkerProcess('lab', labEnv);
    await contaminatedLab.ready;
    try {
      const start = await runCellos(['start', writeConfig(`tel-${id}-contaminated`), '--id', failing], labEnv);
      expect(start.code).toBe(0);
      await waitFor(
        async () => JSON.parse((await cli(['status', failing, '--json'])).stdout) as CampaignStatus,
        (s) => !['running', 'paused'].includes(s.state),
        120_000,
      );
    } finally {
      await stopWorkerProcess(contaminatedLab);
    }
    const outcomes = (JSON.parse((await cli(['results', failing, '--json'])).stdout) as CampaignResults).outcomes;
    const failed = outcomes.find((o) => o.status === 'failed')!;
    expect(failed.failure?.type).toBe('Contamination');
    expect(failed.failure?.message).toContain(`(${failed.proposal.cellLine}) is contaminated`);

    for (const workflowId of [failing, failed.experimentWorkflowId]) {
      const json = await history(workflowId);
      expect(json).toMatch(/"failure"/);
      expect(json).toContain('Encoded failure');
      const readable = everythingReadable(json);
      for (const secret of [...CELL_LINES, COMPOUND, 'is contaminated']) {
        expect(readable, `${workflowId} shows "${secret}"`).not.toContain(secret);
      }
    }
  });
});
