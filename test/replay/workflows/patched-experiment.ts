// The same change made safely: behind patched(), runs recorded before it keep their old path on
// replay, and new runs take the new one.
import { patched, sleep } from '@temporalio/workflow';
import { experimentWorkflow as current, type ExperimentInput } from '../../../src/workflows/experiment';

export async function experimentWorkflow(input: ExperimentInput): ReturnType<typeof current> {
  if (patched('wait-before-seeding')) await sleep('1 minute');
  return current(input);
}
