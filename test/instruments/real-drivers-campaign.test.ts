import { createServer } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startCampaign } from '../../src/client/campaign-client';
import { labConfigSchema } from '../../src/config/lab-config';
import { builtinLabProfile } from '../../src/config/lab-profile';
import { openLabInstruments } from '../../src/instruments/lab-instruments';
import { OpentronsAnalyzer } from '../../src/instruments/opentrons/analyzer';
import { startSila2ReaderServer, type Sila2ReaderServer } from '../../src/instruments/sila2/reader-server';
import { auditCampaign } from '../../src/lab/campaign-audit';
import { profilePricing } from '../../src/lab/catalogue';
import { LabStore } from '../../src/lab/lab-store';
import { testConfig } from '../helpers/configs';
import { openTestEnv, withWorkers, type TemporalTestEnv } from '../helpers/temporal-env';
import { FakeOpentronsRobot } from './opentrons/fake-robot';

/**
 * A whole campaign served by the real drivers: the liquid handler is the Opentrons Flex driver
 * (every protocol checked by the vendor's analyzer, then run on a fake robot that follows the HTTP
 * API reference), the plate reader is a real SiLA 2 server reached over gRPC, whose virtual reader
 * reads the virtual lab's plates through the lab worker's plate source. The virtual lab stays the
 * world: it repeats each robot step under the same key, so the reader reads what was dispensed.
 */
const START_TIMEOUT_MS = 300_000;
let env: TemporalTestEnv;
let analyzer: OpentronsAnalyzer;
let robot: FakeOpentronsRobot;
let reader: Sila2ReaderServer;
let plateSourcePort: number;

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => resolve(typeof address === 'object' && address ? address.port : 0));
    });
  });
}

beforeAll(async () => {
  env = await openTestEnv();
  analyzer = new OpentronsAnalyzer();
  await analyzer.start();
  robot = await FakeOpentronsRobot.start({
    analyse: async (source, fileName) => (await analyzer.analyse(source, fileName)).analysis,
  });
  plateSourcePort = await freePort();
  reader = await startSila2ReaderServer({ plateSource: `http://127.0.0.1:${plateSourcePort}` });
}, START_TIMEOUT_MS);

afterAll(async () => {
  await reader?.stop();
  await robot?.close();
  await analyzer?.close();
  await env?.close();
});

describe('a campaign on the real drivers', () => {
  it('completes with the Opentrons Flex driver (fake robot) and the SiLA 2 reader serving its plates, one run per plate step', async () => {
    const labConfig = labConfigSchema.parse({
      drivers: {
        'liquid-handler': { driver: 'opentrons-flex', url: robot.url },
        'plate-reader': { driver: 'sila2', address: reader.address },
      },
    });
    // At the lab protocol's 0.5 % DMSO a 1 mM stock makes at most 5 µM: the robot's planner refuses more.
    const config = testConfig({
      maxIterations: 2,
      batchSize: 4,
      doseRange: { minMicromolar: 0.001, maxMicromolar: 5 },
    });
    await withWorkers(
      env,
      async (lab) => {
        const handle = await startCampaign({ client: env.client, ...lab }, config, `campaign-${config.name}`);
        const results = await handle.result();
        expect(results.status.state).toBe('completed');
        expect(results.outcomes).toHaveLength(2 * (4 + 2));
        expect(results.outcomes.filter((o) => o.status !== 'succeeded')).toEqual([]);
        for (const o of results.outcomes) expect(o.readout?.signal).toBeGreaterThan(0);
        // The reader saw the doses the robot dispensed: the vehicle wells read brighter than the top dose.
        const top = results.outcomes
          .filter((o) => !o.proposal.isControl)
          .sort((a, b) => b.proposal.doseMicromolar - a.proposal.doseMicromolar)[0]!;
        const vehicle = results.outcomes.find(
          (o) => o.proposal.isControl && o.proposal.cellLine === top.proposal.cellLine && o.iteration === top.iteration,
        )!;
        expect(vehicle.readout!.signal).toBeGreaterThan(top.readout!.signal);

        // The robot ran one protocol per liquid-handling plate step (seed and dose of each plate), no more.
        const runs = [...robot.runs.values()];
        expect(runs).toHaveLength(2 * 2);
        expect(runs.every((r) => r.status === 'succeeded')).toBe(true);
        expect(robot.violations).toEqual([]);
        // The lab's record: one seed, one dose and one read per plate, every well accounted for.
        const store = LabStore.open(lab.labDbPath);
        try {
          const audit = auditCampaign({ results, store, compounds: profilePricing(builtinLabProfile()) });
          expect(audit.problems).toEqual([]);
          expect(audit.plateSteps).toBe(2 * 3);
          expect(audit.wells).toBe(12);
        } finally {
          store.close();
        }
      },
      {
        labConfig,
        drivers: (virtualLab, labDbPath) => openLabInstruments({ labConfig, virtualLab, labDbPath, plateSourcePort }),
      },
    );
  }, 600_000);
});
