import proto from '@temporalio/proto';
import type { Assay } from '../domain/types';
import { instrumentTaskQueue, inventoryTaskQueue, readerFor, taskQueuesFromEnv } from '../temporal/task-queues';
import type { CampaignClientOptions } from './campaign-client';

/**
 * Which task queues a running campaign needs served, and which of them no worker polls right now
 * (Temporal's DescribeTaskQueue lists recent pollers with their last poll time). A worker that
 * died is still listed for a few minutes, so a poller counts only if it polled recently: workers
 * long-poll for about a minute at a time.
 */
export const POLLER_FRESH_MS = 90_000;

export interface NeededQueue {
  name: string;
  type: 'workflow' | 'activity';
  /** Who should poll it, in words ("orchestration worker", "lab worker (plate-reader)"). */
  role: string;
}

export function queuesCampaignNeeds(options: {
  orchestrationTaskQueue: string;
  labTaskQueue: string;
  assay?: Assay;
}): NeededQueue[] {
  const { orchestrationTaskQueue: orchestration, labTaskQueue: lab } = options;
  const reader = readerFor(options.assay ?? 'viability');
  return [
    { name: orchestration, type: 'workflow', role: 'orchestration worker' },
    { name: orchestration, type: 'activity', role: 'orchestration worker' },
    { name: inventoryTaskQueue(lab), type: 'activity', role: 'lab worker (stockroom)' },
    { name: instrumentTaskQueue(lab, 'liquid-handler'), type: 'activity', role: 'lab worker (liquid-handler)' },
    { name: instrumentTaskQueue(lab, reader), type: 'activity', role: `lab worker (${reader})` },
  ];
}

/** The queues of `needed` that nobody polls; a queue that cannot be described is left out (no false alarm). */
export async function silentQueues(
  opts: CampaignClientOptions,
  needed: NeededQueue[],
  nowMs = Date.now(),
): Promise<NeededQueue[]> {
  const { TaskQueueType, TaskQueueKind } = proto.temporal.api.enums.v1;
  const checks = await Promise.all(
    needed.map(async (q) => {
      try {
        const r = await opts.client.workflowService.describeTaskQueue({
          namespace: opts.client.options.namespace,
          taskQueue: { name: q.name, kind: TaskQueueKind.TASK_QUEUE_KIND_NORMAL },
          taskQueueType:
            q.type === 'workflow' ? TaskQueueType.TASK_QUEUE_TYPE_WORKFLOW : TaskQueueType.TASK_QUEUE_TYPE_ACTIVITY,
        });
        const fresh = (r.pollers ?? []).some((p) => {
          const t = p.lastAccessTime;
          const ms = t ? Number(t.seconds ?? 0) * 1000 + Math.floor((t.nanos ?? 0) / 1e6) : 0;
          return nowMs - ms < POLLER_FRESH_MS;
        });
        return fresh ? undefined : q;
      } catch {
        return undefined;
      }
    }),
  );
  return checks.filter((q): q is NeededQueue => q !== undefined);
}

/** "no lab worker is listening on cellos-lab-plate-reader (start one: npm run worker:lab)". */
export function silentQueueWarnings(silent: NeededQueue[]): string[] {
  const seen = new Set<string>();
  return silent.flatMap((q) => {
    if (seen.has(q.name)) return [];
    seen.add(q.name);
    const orchestration = q.role.startsWith('orchestration');
    const who = orchestration ? 'orchestration worker' : 'lab worker';
    const start = orchestration ? 'npm run worker:orchestration' : 'npm run worker:lab';
    return [`no ${who} is listening on ${q.name} (${q.role}); start one: ${start}`];
  });
}

/** The warnings for a campaign that is still running, with this CLI's queue names unless given. */
export async function campaignWorkerWarnings(
  opts: CampaignClientOptions,
  orchestrationTaskQueue: string | undefined,
  assay: Assay | undefined,
): Promise<string[]> {
  const env = taskQueuesFromEnv();
  const needed = queuesCampaignNeeds({
    orchestrationTaskQueue: orchestrationTaskQueue ?? opts.orchestrationTaskQueue ?? env.orchestration,
    labTaskQueue: opts.labTaskQueue ?? env.lab,
    ...(assay ? { assay } : {}),
  });
  return silentQueueWarnings(await silentQueues(opts, needed));
}
