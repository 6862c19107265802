import { activityInfo } from '@temporalio/activity';
import { WorkflowNotFoundError, type Client } from '@temporalio/client';
import type { LabConfig } from '../config/lab-config';
import { requestIncubatorSlotSignal } from '../temporal/messages';
import { incubatorWorkflowId } from '../temporal/task-queues';
import type { SlotRequest } from '../workflows/incubator-state';
import type { incubatorWorkflow } from '../workflows/incubator';

/**
 * Orchestration-side services of the shared lab. Workflows cannot start other workflows except
 * as their children, and the incubator must outlive every campaign, so asking for a slot is an
 * activity that signals the incubator workflow, starting it first if this is the lab's first
 * request (signal-with-start is atomic: two campaigns asking at once still get one incubator).
 */
export function createLabServiceActivities({ client, labConfig }: { client: Client; labConfig: LabConfig }) {
  return {
    async requestIncubatorSlot(input: { labTaskQueue: string; request: SlotRequest }): Promise<void> {
      await client.workflow.signalWithStart<typeof incubatorWorkflow, [SlotRequest]>('incubatorWorkflow', {
        workflowId: incubatorWorkflowId(input.labTaskQueue),
        taskQueue: activityInfo().taskQueue,
        args: [
          {
            capacityPlates: labConfig.incubator.capacityPlates,
            reapIntervalMs: labConfig.incubator.reapIntervalSeconds * 1000,
          },
        ],
        signal: requestIncubatorSlotSignal,
        signalArgs: [input.request],
        staticSummary: `incubator: ${labConfig.incubator.capacityPlates} plate slots`,
        // Every slot handover runs through the incubator's workflow tasks: they go first.
        priority: { priorityKey: 1 },
      });
    },
    /** Which of these workflows are no longer running (ended, or never existed). */
    async findEndedWorkflows({ workflowIds }: { workflowIds: string[] }): Promise<string[]> {
      const ended: string[] = [];
      for (const id of workflowIds) {
        try {
          const description = await client.workflow.getHandle(id).describe();
          if (description.status.name !== 'RUNNING') ended.push(id);
        } catch (err) {
          if (err instanceof WorkflowNotFoundError) ended.push(id);
          else throw err;
        }
      }
      return ended;
    },
  };
}

export type LabServiceActivities = ReturnType<typeof createLabServiceActivities>;
