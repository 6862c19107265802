import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inject } from 'vitest';
import type { CampaignResults, CampaignStatus } from '../../src/domain/campaign-status';
import { runCellos, startWorkerProcess, stopWorkerProcess, type WorkerProcess } from '../helpers/processes';

/** The demo campaign end to end through the `cellos` CLI, with both worker roles as real processes. */
const id = randomUUID().slice(0, 8);
const dir = mkdtempSync(join(tmpdir(), 'cellos-e2e-'));
const env = {
  TEMPORAL_ADDRESS: inject('temporalAddress'),
  TEMPORAL_NAMESPACE: 'default',
  CELLOS_ORCHESTRATION_TASK_QUEUE: `e2e-orchestration-${id}`,
  CELLOS_LAB_TASK_QUEUE: `e2e-lab-${id}`,
  CELLOS_LAB_DB: join(dir, 'lab.db'),
};
let workers: WorkerProcess[] = [];

beforeAll(async () => {
  workers = [startWorkerProcess('orchestration', env), startWorkerProcess('lab', env)];
  await Promise.all(workers.map((w) => w.ready));
});
afterAll(async () => {
  await Promise.all(workers.map((w) => stopWorkerProcess(w)));
});

describe('cellos CLI', () => {
  it('runs the demo campaign: 12 results, viability falling with dose', async () => {
    const campaignId = `campaign-demo-${id}`;
    const start = await runCellos(['start', 'examples/demo.yaml', '--id', campaignId], env);
    expect(start.stderr).toBe('');
    expect(start.code).toBe(0);
    expect(start.stdout).toContain(`started ${campaignId}`);

    let status: CampaignStatus | undefined;
    for (let i = 0; i < 120; i++) {
      const run = await runCellos(['status', campaignId, '--json'], env);
      expect(run.code).toBe(0);
      status = JSON.parse(run.stdout) as CampaignStatus;
      if (!['running', 'paused'].includes(status.state)) break;
      await new Promise((r) => setTimeout(r, 500));
    }
    expect(status?.state).toBe('completed');

    const json = await runCellos(['results', campaignId, '--json'], env);
    const results = JSON.parse(json.stdout) as CampaignResults;
    const treatments = results.outcomes.filter((o) => !o.proposal.isControl);
    expect(treatments).toHaveLength(12);
    expect(treatments.every((o) => o.status === 'succeeded' && o.normalisedResponse !== undefined)).toBe(true);
    // Per pair, the highest dose leaves far fewer cells alive than the lowest.
    const pairs = new Map<string, { dose: number; response: number }[]>();
    for (const o of treatments) {
      const key = `${o.proposal.cellLine}|${o.proposal.compound}`;
      pairs.set(key, [...(pairs.get(key) ?? []), { dose: o.proposal.doseMicromolar, response: o.normalisedResponse! }]);
    }
    expect(pairs.size).toBe(4);
    for (const points of pairs.values()) {
      if (points.length < 2) continue; // the learner may spend a single well on a pair it barely needs yet
      points.sort((a, b) => a.dose - b.dose);
      expect(points[points.length - 1]!.response).toBeLessThan(points[0]!.response - 0.3);
    }
    // Across all 12 wells, response falls with log dose (rank correlation).
    expect(
      spearman(
        treatments.map((o) => Math.log10(o.proposal.doseMicromolar)),
        treatments.map((o) => o.normalisedResponse!),
      ),
    ).toBeLessThan(-0.6);

    const table = await runCellos(['results', campaignId], env);
    expect(table.stdout).toMatch(/U2OS\s+staurosporine\s+[\d.]+\s+[\d.]+\s+\d+\s+[A-H]\d+/);
    const csv = await runCellos(['results', campaignId, '--csv'], env);
    expect(csv.stdout.trim().split('\n')).toHaveLength(1 + results.outcomes.length);
    const list = await runCellos(['list'], env);
    expect(list.stdout).toMatch(new RegExp(`${campaignId}\\s+completed`));

    const late = await runCellos(['pause', campaignId], env);
    expect(late.code).toBe(1);
    expect(late.stderr).toMatch(/already ended/);
  });

  it('rejects a bad config with the field, the value and what is allowed, and starts nothing', async () => {
    const path = join(dir, 'bad.yaml');
    writeFileSync(
      path,
      [
        `name: bad-${id}`,
        'cellLines: [U2OS, NotALine]',
        'compounds: [staurosporine]',
        'doseRange: { minMicromolar: 0.001, maxMicromolar: 10 }',
        'assay: viability',
        'batchSize: 4',
        'maxIterations: 3',
        'budgetUsd: 100',
      ].join('\n'),
    );
    const run = await runCellos(['start', path], env);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('cellLines[1]');
    expect(run.stderr).toContain('"NotALine"');
    expect(run.stderr).toMatch(/known: A549, CHO, HEK293T, HeLa, HepG2, Jurkat, U2OS/);
    const status = await runCellos(['status', `campaign-bad-${id}`], env);
    expect(status.code).toBe(1);
    expect(status.stderr).toMatch(/no campaign/);
  });

  it('refuses a budget that is not a number before contacting anything', async () => {
    const run = await runCellos(['budget', 'campaign-x', 'ten'], env);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/usd: "ten" is not an amount/);
  });
});

function ranks(xs: number[]): number[] {
  const order = xs.map((x, i) => ({ x, i })).sort((a, b) => a.x - b.x);
  const r = new Array<number>(xs.length);
  order.forEach((o, rank) => (r[o.i] = rank));
  return r;
}

function spearman(a: number[], b: number[]): number {
  const ra = ranks(a);
  const rb = ranks(b);
  const mean = (v: number[]) => v.reduce((s, x) => s + x, 0) / v.length;
  const ma = mean(ra);
  const mb = mean(rb);
  let num = 0;
  let da = 0;
  let db = 0;
  for (let i = 0; i < ra.length; i++) {
    num += (ra[i]! - ma) * (rb[i]! - mb);
    da += (ra[i]! - ma) ** 2;
    db += (rb[i]! - mb) ** 2;
  }
  return num / Math.sqrt(da * db);
}
