/**
 * Task queues. Workflows and learning run on the orchestration queue; everything that touches
 * hardware runs on the lab queue, served by workers on the hosts wired to the instruments.
 */
export const ORCHESTRATION_TASK_QUEUE = 'cellos-orchestration';
export const LAB_TASK_QUEUE = 'cellos-lab';
