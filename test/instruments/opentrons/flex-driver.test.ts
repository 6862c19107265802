import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OpentronsAnalyzer, type ProtocolAnalysis } from '../../../src/instruments/opentrons/analyzer';
import { ProtocolRejectedError, RobotRequestError } from '../../../src/instruments/opentrons/errors';
import {
  createOpentronsFlexDriver,
  type OpentronsFlexDriverOptions,
} from '../../../src/instruments/opentrons/flex-driver';
import type { RunPath } from '../../../src/instruments/opentrons/run-once';
import { FakeOpentronsRobot } from './fake-robot';
import { doseRequest, seedRequest } from './requests';

/**
 * The driver against a fake robot that follows the HTTP API reference and runs the analyzer's
 * own command list. Each test uses its own plate (so its own operation key).
 */

const VENV_TIMEOUT_MS = 240_000;
const RUNS = /^\/runs$/;
const ACTIONS = /^\/runs\/[^/]+\/actions$/;
const PROTOCOLS = /^\/protocols$/;

let analyzer: OpentronsAnalyzer;
let robot: FakeOpentronsRobot;
const paths = new Map<string, RunPath[]>();

beforeAll(async () => {
  analyzer = new OpentronsAnalyzer({ log: (line) => console.log(line) });
  await analyzer.start();
  console.log(
    `analyzer ready in ${analyzer.startSeconds.toFixed(1)} s (venv created in ${analyzer.venvCreatedInSeconds.toFixed(1)} s)`,
  );
  robot = await FakeOpentronsRobot.start({
    analyse: async (source, fileName) => (await analyzer.analyse(source, fileName)).analysis,
  });
}, VENV_TIMEOUT_MS);

const ledgerFolder = mkdtempSync(join(tmpdir(), 'cellos-opentrons-ledger-'));

afterAll(async () => {
  rmSync(ledgerFolder, { recursive: true, force: true });
  await robot?.close();
  await analyzer?.close();
});

function driver(options: Partial<OpentronsFlexDriverOptions> = {}) {
  return createOpentronsFlexDriver({
    url: robot.url,
    analyzer,
    pollIntervalMs: 50,
    onRun: ({ operationKey, path }) => paths.set(operationKey, [...(paths.get(operationKey) ?? []), path]),
    ...options,
  });
}

/** The n-th (1-based) dispense into the cell plate (slot D1) of a protocol's analysis. */
function nthPlateDispense(n: number) {
  return (
    command: { commandType: string; params: Record<string, unknown> },
    index: number,
    analysis: ProtocolAnalysis,
  ) => {
    const plate = analysis.labware.find((l) => (l.location as { slotName?: string }).slotName === 'D1')!;
    const dispenses = analysis.commands
      .map((c, i) => ({ c, i }))
      .filter(({ c }) => c.commandType === 'dispense' && c.params.labwareId === plate.id);
    return dispenses[n - 1]?.i === index && command.commandType === 'dispense';
  };
}

describe('Opentrons Flex driver against a fake robot', () => {
  it('seeds a plate in one run and reports every well, and a repeated call starts nothing', async () => {
    const request = seedRequest(16, { plateId: 'seed-once' });
    const first = await driver().seedPlate(request);
    expect(first.wells).toHaveLength(16);
    expect(first.wells.every((w) => w.ok)).toBe(true);
    expect(first.wells[0]).toEqual({ well: 'A1', ok: true, value: { cellsSeeded: 10_000, volumeMicrolitres: 100 } });
    const runsBefore = robot.count('POST', RUNS);
    const playsBefore = robot.count('POST', ACTIONS);
    const uploadsBefore = robot.count('POST', PROTOCOLS);

    const again = await driver().seedPlate(request);
    expect(again).toEqual(first);
    expect(robot.count('POST', RUNS)).toBe(runsBefore);
    expect(robot.count('POST', ACTIONS)).toBe(playsBefore);
    expect(robot.count('POST', PROTOCOLS)).toBe(uploadsBefore);
    expect(paths.get(request.operationKey)).toEqual(['uploaded', 'found-finished-run']);
    expect(robot.violations).toEqual([]);
  });

  it('reports a run that fails halfway well by well: filled wells ok, the rest failed with the robot error', async () => {
    const request = doseRequest(8, { plateId: 'dose-half' });
    robot.failNextRun({
      at: nthPlateDispense(5),
      error: {
        errorType: 'PipetteOverpressureError',
        errorCode: '3006',
        detail: 'Overpressure detected during dispense.',
      },
    });
    const report = await driver().dosePlate(request);
    const ok = report.wells.filter((w) => w.ok).map((w) => w.well);
    const failed = report.wells.filter((w) => !w.ok);
    expect(ok).toEqual(['A1', 'B1', 'C1', 'D1']);
    expect(failed.map((w) => w.well)).toEqual(['E1', 'F1', 'G1', 'H1']);
    for (const w of failed) {
      expect(w.ok || w.failure.type).toBe('InstrumentFault');
      expect(w.ok || w.failure.message).toMatch(/failed before this well was filled: .*3006.*Overpressure detected/);
    }
    expect(report.wells[1]).toEqual({ well: 'B1', ok: true, value: { doseMicromolar: 0.001, volumeMicrolitres: 10 } });
    expect(robot.violations).toEqual([]);
  });

  it('plays, not re-creates, a run whose worker was killed between "run created" and "play"', async () => {
    const request = seedRequest(8, { plateId: 'seed-crash' });
    const runsBefore = robot.runs.size;
    robot.dropNext('POST', ACTIONS);
    const crashed = driver();
    await expect(crashed.seedPlate(request)).rejects.toBeInstanceOf(RobotRequestError);
    expect(robot.runs.size).toBe(runsBefore + 1);
    const created = [...robot.runs.values()].at(-1)!;
    expect(created.status).toBe('idle');

    const report = await driver().seedPlate(request);
    expect(report.wells.every((w) => w.ok)).toBe(true);
    expect(robot.runs.size).toBe(runsBefore + 1);
    expect(created.status).toBe('succeeded');
    expect(paths.get(request.operationKey)).toEqual(['played-existing-run']);
    expect(robot.violations).toEqual([]);
  });

  it('creates the run for a protocol uploaded by a worker killed before "create run", without uploading again', async () => {
    const request = seedRequest(8, { plateId: 'seed-crash-upload' });
    const uploadsBefore = robot.count('POST', PROTOCOLS);
    robot.dropNext('POST', RUNS);
    await expect(driver().seedPlate(request)).rejects.toBeInstanceOf(RobotRequestError);
    const report = await driver().seedPlate(request);
    expect(report.wells.every((w) => w.ok)).toBe(true);
    expect(robot.count('POST', PROTOCOLS)).toBe(uploadsBefore + 1);
    const ours = [...robot.protocols.values()].filter((p) => p.key === request.operationKey);
    expect(ours).toHaveLength(1);
    expect([...robot.runs.values()].filter((r) => r.protocolId === ours[0]!.id)).toHaveLength(1);
    expect(paths.get(request.operationKey)).toEqual(['created-run']);
    expect(robot.violations).toEqual([]);
  });

  it('answers a finished step from its ledger after the robot pruned the run, and refuses to rerun a lost run', async () => {
    const ledgerPath = join(ledgerFolder, 'opentrons.db');
    const request = seedRequest(8, { plateId: 'seed-ledger' });
    const first = driver({ ledgerPath });
    const report = await first.seedPlate(request);
    await first.close();
    robot.prune([...robot.protocols.values()].find((p) => p.key === request.operationKey)!.id);
    const postsBefore = robot.requests.filter((r) => r.method === 'POST').length;
    const second = driver({ ledgerPath });
    expect(await second.seedPlate(request)).toEqual(report);
    await second.close();

    const lost = seedRequest(8, { plateId: 'seed-ledger-lost' });
    robot.dropNext('POST', ACTIONS);
    const crashed = driver({ ledgerPath });
    await expect(crashed.seedPlate(lost)).rejects.toBeInstanceOf(RobotRequestError);
    await crashed.close();
    robot.prune([...robot.protocols.values()].find((p) => p.key === lost.operationKey)!.id);
    const retry = driver({ ledgerPath });
    await expect(retry.seedPlate(lost)).rejects.toThrow(/no longer has it; a person must check/);
    await retry.close();
    // One upload, one run and one (cut-off) play for the lost step; nothing for the answered one.
    expect(robot.requests.filter((r) => r.method === 'POST').length).toBe(postsBefore + 3);
  });

  it("refuses a volume above the tips' capacity with the analyzer's reason, uploading nothing", async () => {
    const request = seedRequest(8, { plateId: 'seed-impossible' });
    const requestsBefore = robot.requests.length;
    const only50 = driver({ pipettes: [{ model: 'flex_1channel_50', mount: 'right' }] });
    const error = await only50.seedPlate(request).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ProtocolRejectedError);
    expect((error as ProtocolRejectedError).type).toBe('ProtocolRejected');
    expect((error as ProtocolRejectedError).nonRetryable).toBe(true);
    expect((error as Error).message).toMatch(
      /local analyzer rejected the protocol: .*Cannot aspirate 100(\.0)? µL when only 50 is available in the tip/,
    );
    const sent = robot.requests.slice(requestsBefore);
    expect(sent.filter((r) => r.method !== 'GET')).toEqual([]);
    expect([...robot.protocols.values()].filter((p) => p.key === request.operationKey)).toEqual([]);
  });
});
