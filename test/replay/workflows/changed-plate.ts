// A deliberately non-deterministic change, for the replay test to catch: the plate now waits
// before seeding, so its first command is a timer where the recorded history has an activity.
import { sleep } from '@temporalio/workflow';
import { plateWorkflow as current, type PlateInput } from '../../../src/workflows/plate';

export async function plateWorkflow(input: PlateInput): ReturnType<typeof current> {
  await sleep('1 minute');
  return current(input);
}
