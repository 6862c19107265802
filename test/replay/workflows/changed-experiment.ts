// A deliberately non-deterministic change, for the replay test to catch: the experiment now waits
// before seeding, so its first command is a timer where the recorded history has an activity.
import { sleep } from '@temporalio/workflow';
import { experimentWorkflow as current, type ExperimentInput } from '../../../src/workflows/experiment';

export async function experimentWorkflow(input: ExperimentInput): ReturnType<typeof current> {
  await sleep('1 minute');
  return current(input);
}
