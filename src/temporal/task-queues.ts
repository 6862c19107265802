/**
 * Task queues. Workflows and learning run on the orchestration queue; everything that touches
 * hardware runs on the lab queue, served by workers on the hosts wired to the instruments.
 */
export const ORCHESTRATION_TASK_QUEUE = 'cellos-orchestration';
export const LAB_TASK_QUEUE = 'cellos-lab';

/** The queues this process uses; CELLOS_*_TASK_QUEUE override them (tests, several labs on one cluster). */
export function taskQueuesFromEnv(env: NodeJS.ProcessEnv = process.env): { orchestration: string; lab: string } {
  return {
    orchestration: env.CELLOS_ORCHESTRATION_TASK_QUEUE || ORCHESTRATION_TASK_QUEUE,
    lab: env.CELLOS_LAB_TASK_QUEUE || LAB_TASK_QUEUE,
  };
}
