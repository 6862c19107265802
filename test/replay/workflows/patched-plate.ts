// The same change made safely: behind patched(), runs recorded before it keep their old path on
// replay, and new runs take the new one.
import { patched, sleep } from '@temporalio/workflow';
import { plateWorkflow as current, type PlateInput } from '../../../src/workflows/plate';

export async function plateWorkflow(input: PlateInput): ReturnType<typeof current> {
  if (patched('wait-before-seeding')) await sleep('1 minute');
  return current(input);
}
