import type { Assay } from '../domain/types';

/**
 * Task queues. Workflows and learning run on the orchestration queue. Each instrument has its
 * own queue, `<lab queue>-<instrument>`, served by a worker on the host wired to it; the worker's
 * slots equal the instrument's capacity, and Temporal's task-queue priority decides whose
 * operation goes next when campaigns contend.
 */
export const ORCHESTRATION_TASK_QUEUE = 'cellos-orchestration';
export const LAB_TASK_QUEUE = 'cellos-lab';

export const OPERATION_INSTRUMENTS = ['liquid-handler', 'plate-reader', 'imager'] as const;
export type OperationInstrument = (typeof OPERATION_INSTRUMENTS)[number];

/** The instrument that measures an assay: the imager for imaging, the plate reader otherwise. */
export function readerFor(assay: Assay): Extract<OperationInstrument, 'imager' | 'plate-reader'> {
  return assay === 'imaging' ? 'imager' : 'plate-reader';
}

export function instrumentTaskQueue(labTaskQueue: string, instrument: OperationInstrument): string {
  return `${labTaskQueue}-${instrument}`;
}

/** The queues this process uses; CELLOS_*_TASK_QUEUE override them (tests, several labs on one cluster). */
export function taskQueuesFromEnv(env: NodeJS.ProcessEnv = process.env): { orchestration: string; lab: string } {
  return {
    orchestration: env.CELLOS_ORCHESTRATION_TASK_QUEUE || ORCHESTRATION_TASK_QUEUE,
    lab: env.CELLOS_LAB_TASK_QUEUE || LAB_TASK_QUEUE,
  };
}

/** The lab's incubator-slot workflow (one per lab task queue). */
export function incubatorWorkflowId(labTaskQueue: string): string {
  return `${labTaskQueue}-incubator`;
}

/** The lab's stockroom: restocks and inventory reports, served by the lab workers (they own the lab file). */
export function inventoryTaskQueue(labTaskQueue: string): string {
  return `${labTaskQueue}-inventory`;
}

/** The lab's stockroom workflow (one per lab task queue): restocks, inventory reports and the catalogue. */
export function stockroomWorkflowId(labTaskQueue: string): string {
  return `${labTaskQueue}-stockroom`;
}
