import { describe, expect, it } from 'vitest';
import type { CampaignView } from '../../src/client/campaign-client';
import { formatDuration } from '../../src/client/campaign-client';
import { batchLine, formatStatus } from '../../src/client/format';
import { estimateEta, renderWatch, waitsFor } from '../../src/client/watch';
import { silentQueueWarnings, queuesCampaignNeeds } from '../../src/client/workers-check';
import type { CampaignStatus } from '../../src/domain/campaign-status';
import { campaignDetailsMarkdown } from '../../src/domain/campaign-status';
import { campaignFixture } from '../report/fixture';

const base = campaignFixture().status;
const status = (over: Partial<CampaignStatus>): CampaignStatus => ({
  ...base,
  state: 'running',
  detail: '',
  reportPath: undefined,
  pendingBatch: undefined,
  pendingAction: undefined,
  paused: false,
  stopRequested: false,
  waitingFor: [],
  ...over,
});
const t0 = Date.parse('2026-12-01T10:00:00Z');
const view = (s: CampaignStatus): CampaignView => ({
  status: s,
  running: true,
  startTime: new Date(t0),
  taskQueue: 'cellos-orchestration',
});

describe('the batch counter', () => {
  it('counts the batch that is running, not the ones done', () => {
    const s = status({ iteration: 0, maxIterations: 6, experiments: { done: 0, running: 8, failed: 0, controls: 0 } });
    expect(batchLine(s)).toBe('1 of 6 (running; 0 done)');
    expect(formatStatus(s)).toMatch(/^batch\s+1 of 6/m);
    expect(formatStatus(s)).not.toMatch(/0 of 6/);
    expect(batchLine({ ...s, state: 'completed', iteration: 3 })).toBe('3 of 6 ran');
  });
});

describe('cellos watch', () => {
  it('times the rest of the campaign by the batches that finished, in real time and on the lab clock', () => {
    // 2 of 4 batches done in 10 minutes, batch 3 running: 5 min per batch.
    const s = status({
      iteration: 2,
      maxIterations: 4,
      secondsPerLabHour: 6,
      experiments: { done: 16, running: 8, failed: 1, controls: 4 },
    });
    const eta = estimateEta(view(s), t0 + 12 * 60_000)!;
    expect(eta.perBatchMs).toBe(6 * 60_000);
    expect(eta.batchLeftMs).toBe(6 * 60_000);
    expect(eta.campaignLeftMs).toBe(12 * 60_000);
    const text = renderWatch({ view: view(s), warnings: [], nowMs: t0 + 12 * 60_000 });
    expect(text).toContain('16 done · 8 running · 1 failed');
    expect(text).toContain('this batch ~6 min, the campaign at most ~12 min real time');
    expect(text).toContain('lab clock 2.5 lab days / 5.0 lab days');
    const stopping = renderWatch({ view: view(s), warnings: [], nowMs: t0 + 12 * 60_000 }, { stopping: true });
    expect(stopping).toContain('8 running well(s) finish in about 6 min (2.5 lab days), then it ends');
  });

  it('says what the campaign waits for and which queue nobody listens on', () => {
    const s = status({
      pendingAction: 'load plate p003 (12 wells) into the incubator',
      waitingFor: [
        { instrument: 'plate-reader', kind: 'instrument', experiments: 3 },
        { instrument: 'tips', kind: 'stock', experiments: 2 },
      ],
    });
    const waits = waitsFor(s);
    expect(waits[0]).toMatch(/^a person: load plate p003/);
    expect(waits).toContain('the plate-reader, offline (3 well(s))');
    expect(waits.some((w) => w.startsWith('stock: tips'))).toBe(true);
    const needed = queuesCampaignNeeds({ orchestrationTaskQueue: 'o', labTaskQueue: 'lab', assay: 'viability' });
    expect(needed.map((q) => q.name)).toEqual(['o', 'o', 'lab-inventory', 'lab-liquid-handler', 'lab-plate-reader']);
    const warnings = silentQueueWarnings(needed.slice(4));
    expect(warnings).toEqual([
      'no lab worker is listening on lab-plate-reader (lab worker (plate-reader)); start one: npm run worker:lab',
    ]);
    const text = renderWatch({ view: view(s), warnings, nowMs: t0 });
    expect(text).toMatch(/warning\s+no lab worker is listening on lab-plate-reader/);
    expect(text).toMatch(/waiting\s+for the plate-reader, offline/);
  });

  it('names the report when the campaign has ended', () => {
    const s = status({ state: 'goal reached', reportPath: '/srv/reports/campaign-x.html' });
    const text = renderWatch({ view: { ...view(s), running: false }, warnings: [], nowMs: t0 });
    expect(text).toMatch(/ended\s+goal reached; report: \/srv\/reports\/campaign-x.html/);
    expect(formatStatus(s)).toMatch(/^report\s+\/srv\/reports\/campaign-x.html$/m);
  });

  it('reads durations as a person does', () => {
    expect(formatDuration(45_000)).toBe('45 s');
    expect(formatDuration(30 * 60_000)).toBe('30 min');
    expect(formatDuration(200 * 60_000)).toBe('3 h 20 min');
  });
});

describe("the Web UI's live summary", () => {
  it('has the state, progress, what it needs from a person and the IC50 table', () => {
    const md = campaignDetailsMarkdown(
      status({ state: 'awaiting approval', detail: '8 wells proposed', pendingBatch: [], iteration: 1 }),
    );
    expect(md).toMatch(/^## .*: awaiting approval/);
    expect(md).toContain('batch **2 of 6**');
    expect(md).toMatch(/\*\*Needs a person\*\*\n- approve or reject 0 proposed wells/);
    expect(md).toMatch(/\| U2OS \| staurosporine \| answered \| 7 \| 0\.206 \| 0\.169–0\.246 \|/);
  });
});
