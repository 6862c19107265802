import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import { DeterminismViolationError } from '@temporalio/workflow';
import {
  bundleWorkflowCode,
  DefaultLogger,
  Runtime,
  Worker,
  type WorkflowBundleWithSourceMap,
} from '@temporalio/worker';
import { beforeAll, describe, expect, it } from 'vitest';
import { WORKFLOWS_PATH } from '../../src/workers/orchestration';
import { readHistoryFile } from './history-file';

/**
 * Replays the committed histories of real runs (test/fixtures/histories, recorded by
 * `npm run fixtures:record`) against the current workflow code: a change that would break a
 * running campaign on deploy fails here first. See docs/durability.md.
 */
const FIXTURES = fileURLToPath(new URL('../fixtures/histories/', import.meta.url));
interface Manifest {
  histories: { file: string; workflowType: string; workflowId: string; note: string }[];
}
const manifest = JSON.parse(readFileSync(join(FIXTURES, 'index.json'), 'utf8')) as Manifest;
const historyOf = (file: string): { events: HistoryEvent[] } =>
  JSON.parse(readFileSync(join(FIXTURES, file), 'utf8')) as { events: HistoryEvent[] };
type HistoryEvent = Record<string, unknown> & { eventType: string };

const quiet = new DefaultLogger('ERROR');
const bundle = (workflowsPath: string) => bundleWorkflowCode({ workflowsPath, logger: quiet });
let current: WorkflowBundleWithSourceMap;
beforeAll(async () => {
  Runtime.install({ logger: quiet });
  current = await bundle(WORKFLOWS_PATH);
});

async function replay(workflowBundle: WorkflowBundleWithSourceMap, file: string, workflowId: string): Promise<unknown> {
  return Worker.runReplayHistory(
    { workflowBundle, replayName: file },
    readHistoryFile(join(FIXTURES, file)),
    workflowId,
  ).then(
    () => undefined,
    (err: unknown) => err,
  );
}

describe('replaying recorded histories', () => {
  it.each(manifest.histories.map((h) => [h.file, h.note, h.workflowId] as const))(
    'replays %s (%s) against the current workflow code',
    async (file, _note, workflowId) => {
      const error = await replay(current, file, workflowId);
      if (error) throw new Error(`${file} no longer replays: ${String(error)}. See docs/durability.md.`);
    },
  );

  it('records a campaign that continued as new, paused, resumed, changed its budget and lost a well', () => {
    const campaign = manifest.histories
      .filter((h) => h.workflowType === 'campaignWorkflow')
      .flatMap((h) => historyOf(h.file).events);
    const types = new Set(campaign.map((e) => e.eventType));
    const signals = campaign.flatMap((e) => {
      const attributes = e.workflowExecutionSignaledEventAttributes as { signalName?: string } | undefined;
      return attributes?.signalName ? [attributes.signalName] : [];
    });
    expect(types).toContain('EVENT_TYPE_WORKFLOW_EXECUTION_CONTINUED_AS_NEW');
    expect(signals).toEqual(expect.arrayContaining(['pause', 'resume']));
    expect(types).toContain('EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_COMPLETED');
    expect(types).toContain('EVENT_TYPE_CHILD_WORKFLOW_EXECUTION_FAILED');
    expect(manifest.histories.map((h) => h.workflowType)).toContain('experimentWorkflow');
    expect(manifest.histories.map((h) => h.workflowType)).toContain('plateWorkflow');
  });

  it('records the lab stockroom answering updates with activities', () => {
    const stockroom = manifest.histories.filter((h) => h.workflowType === 'stockroomWorkflow');
    expect(stockroom).toHaveLength(1);
    const types = historyOf(stockroom[0]!.file).events.map((e) => e.eventType);
    expect(types.filter((t) => t === 'EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_COMPLETED').length).toBeGreaterThanOrEqual(
      3,
    );
    expect(types).toContain('EVENT_TYPE_ACTIVITY_TASK_COMPLETED');
  });

  const plates = manifest.histories.filter((x) => x.workflowType === 'plateWorkflow');

  it('catches a non-deterministic change: a plate that now waits before seeding fails to replay', async () => {
    expect(plates.length).toBeGreaterThan(0); // a check over no fixtures proves nothing
    const changed = await bundle(fileURLToPath(new URL('./workflows/changed-plate.ts', import.meta.url)));
    for (const h of plates)
      expect(await replay(changed, h.file, h.workflowId)).toBeInstanceOf(DeterminismViolationError);
  });

  it('replays the old histories when the same change is guarded by patched()', async () => {
    expect(plates.length).toBeGreaterThan(0);
    const guarded = await bundle(fileURLToPath(new URL('./workflows/patched-plate.ts', import.meta.url)));
    for (const h of plates) expect(await replay(guarded, h.file, h.workflowId)).toBeUndefined();
  });
});
