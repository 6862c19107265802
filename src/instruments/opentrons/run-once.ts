import { createHash } from 'node:crypto';
import type { OpentronsCommand } from './analyzer';
import { ProtocolRejectedError, RobotStateError } from './errors';
import { TERMINAL_RUN_STATUSES, type OpentronsRobotClient, type RobotProtocol, type RobotRun } from './robot-client';

/**
 * At most one run per operation key. The robot does not de-duplicate (posting the same thing
 * twice runs it twice), so before creating anything this looks at what the robot already has for
 * the key and continues from there:
 *
 *   nothing             → (generate + analyse locally) upload, wait for the robot's analysis, create, play
 *   protocol, no run    → wait for its analysis, create the run, play   (crashed after upload)
 *   run never played    → play it                                       (crashed between create and play)
 *   run under way       → wait for it                                   (crashed while it ran)
 *   run finished        → read it back, start nothing                   (a retry, or a repeated call)
 *
 * Protocols carry the key in their `key` field; runs are found through their `protocolId`. What
 * this cannot cover is two callers racing with one key at the same moment: the instrument's lease
 * (src/instruments/instrument-guard.ts) is what keeps a key to one caller at a time.
 */

export type RunPath = 'uploaded' | 'created-run' | 'played-existing-run' | 'waited-for-run' | 'found-finished-run';

export interface FinishedRun {
  protocolId: string;
  run: RobotRun;
  commands: OpentronsCommand[];
  /** How this call got to the finished run (for logs and tests). */
  path: RunPath;
}

export interface RunOnceInput {
  operationKey: string;
  fileName: string;
  /** Called only when the robot has nothing for the key: generates (and analyses) the protocol. */
  source: () => Promise<string>;
  /** What an earlier attempt recorded making (run-ledger.ts); the robot must still have it. */
  known?: { protocolId?: string; runId?: string };
  /** Told as soon as the robot has a protocol and a run, before waiting on either. */
  onProtocol?: (protocolId: string) => void;
  onRunCreated?: (protocolId: string, runId: string) => void;
}

export interface RunOnceOptions {
  pollIntervalMs?: number;
  analysisTimeoutMs?: number;
  /** How long a run may take, pauses and error recovery by a person included (default 8 h). */
  runTimeoutMs?: number;
  /** Called on each poll of a run, e.g. to heartbeat the activity. */
  onPoll?: (run: RobotRun) => void;
}

/** The protocol `key` on the robot: the operation key itself when short enough (the API asks ≤ ~100). */
export function robotKey(operationKey: string): string {
  if (operationKey.length <= 100) return operationKey;
  return `cellos-sha256:${createHash('sha256').update(operationKey).digest('hex')}`;
}

export async function runOnce(
  client: OpentronsRobotClient,
  input: RunOnceInput,
  options: RunOnceOptions = {},
): Promise<FinishedRun> {
  const key = robotKey(input.operationKey);
  const protocols = (await client.listProtocols())
    .filter((p) => p.key === key)
    .sort((a, b) => a.createdAt.localeCompare(b.createdAt));
  const ids = new Set(protocols.map((p) => p.id));
  const runs = ids.size === 0 ? [] : (await client.listRuns()).filter((r) => r.protocolId && ids.has(r.protocolId));
  if (runs.length > 1)
    throw new RobotStateError(
      input.operationKey,
      `the robot has ${runs.length} runs for this key (${runs.map((r) => r.id).join(', ')}); ` +
        'a person must decide which one counts',
    );

  let run = runs[0];
  const known = input.known;
  if (known?.runId && run?.id !== known.runId)
    throw new RobotStateError(
      input.operationKey,
      `run ${known.runId} was made for this key but the robot no longer has it` +
        (run ? ` (it has ${run.id} instead)` : '') +
        '; a person must check the plate before anything runs again',
    );
  if (known?.protocolId && !ids.has(known.protocolId))
    throw new RobotStateError(
      input.operationKey,
      `protocol ${known.protocolId} was uploaded for this key but the robot no longer has it; ` +
        'a person must check whether it ran before anything runs again',
    );
  let path: RunPath;
  let protocol: RobotProtocol | undefined = protocols[protocols.length - 1];
  if (run) {
    const played = run.actions.some((a) => a.actionType === 'play');
    path = TERMINAL_RUN_STATUSES.includes(run.status)
      ? 'found-finished-run'
      : played || run.status !== 'idle'
        ? 'waited-for-run'
        : 'played-existing-run';
  } else {
    path = protocol ? 'created-run' : 'uploaded';
    protocol ??= await client.uploadProtocol({ fileName: input.fileName, source: await input.source(), key });
    input.onProtocol?.(protocol.id);
    await waitForAnalysis(client, input.operationKey, protocol, options);
    run = await client.createRun(protocol.id);
    input.onRunCreated?.(protocol.id, run.id);
  }
  if (run.status === 'idle' && !run.actions.some((a) => a.actionType === 'play')) await client.play(run.id);
  const finished = await waitForRun(client, input.operationKey, run.id, options);
  const commands = await client.listCommands(finished.id);
  return { protocolId: finished.protocolId ?? run.protocolId!, run: finished, commands, path };
}

async function waitForAnalysis(
  client: OpentronsRobotClient,
  operationKey: string,
  protocol: RobotProtocol,
  options: RunOnceOptions,
): Promise<void> {
  const deadline = Date.now() + (options.analysisTimeoutMs ?? 10 * 60_000);
  let current = protocol;
  for (;;) {
    const latest = current.analysisSummaries[current.analysisSummaries.length - 1];
    if (latest) {
      const analysis = await client.getAnalysis(current.id, latest.id);
      if (analysis.status === 'completed') {
        if (analysis.result !== 'ok') throw new ProtocolRejectedError(operationKey, 'robot', analysis.errors ?? []);
        return;
      }
    }
    if (Date.now() > deadline)
      throw new Error(`${operationKey}: the robot's analysis of protocol ${current.id} did not finish in time`);
    await sleep(options.pollIntervalMs ?? 1_000);
    current = await client.getProtocol(current.id);
  }
}

async function waitForRun(
  client: OpentronsRobotClient,
  operationKey: string,
  runId: string,
  options: RunOnceOptions,
): Promise<RobotRun> {
  const deadline = Date.now() + (options.runTimeoutMs ?? 8 * 3_600_000);
  for (;;) {
    const run = await client.getRun(runId);
    options.onPoll?.(run);
    if (TERMINAL_RUN_STATUSES.includes(run.status)) return run;
    if (Date.now() > deadline)
      throw new Error(
        `${operationKey}: run ${runId} is still ${run.status}; it is left on the robot and a retry waits again`,
      );
    await sleep(options.pollIntervalMs ?? 1_000);
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
