import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OpentronsAnalyzer, type ProtocolAnalysis } from '../../../src/instruments/opentrons/analyzer';
import { planDosing } from '../../../src/instruments/opentrons/dose-plan';
import type { MountedPipette } from '../../../src/instruments/opentrons/equipment';
import { plannerConfig } from '../../../src/instruments/opentrons/flex-driver';
import type { ProtocolPlan } from '../../../src/instruments/opentrons/plan';
import { protocolSource } from '../../../src/instruments/opentrons/protocol-source';
import { planSeeding } from '../../../src/instruments/opentrons/seed-plan';
import { checkSchema } from './openapi-schemas';
import { doseRequest, seedRequest } from './requests';

/**
 * Every protocol the driver generates goes through the vendor's own analyzer (opentrons 10.1.0 in
 * the project's venv) and must come back "ok", with one dispense into the cell plate per planned
 * transfer. The first run of this file may create the venv (about 25-40 s of pip, more on a busy machine).
 */

const VENV_TIMEOUT_MS = 240_000;
const EIGHT_CHANNEL: MountedPipette[] = [
  { model: 'flex_8channel_1000', mount: 'left' },
  { model: 'flex_1channel_50', mount: 'right' },
];

let analyzer: OpentronsAnalyzer;

beforeAll(async () => {
  analyzer = new OpentronsAnalyzer({ log: (line) => console.log(line) });
  await analyzer.start();
  console.log(
    `analyzer ready in ${analyzer.startSeconds.toFixed(1)} s (venv created in ${analyzer.venvCreatedInSeconds.toFixed(1)} s)`,
  );
}, VENV_TIMEOUT_MS);

afterAll(async () => {
  await analyzer?.close();
});

function summary(plan: ProtocolPlan, analysis: ProtocolAnalysis) {
  const commands: Record<string, number> = {};
  for (const c of analysis.commands) commands[c.commandType] = (commands[c.commandType] ?? 0) + 1;
  const plate = analysis.labware.find((l) => (l.location as { slotName?: string }).slotName === 'D1')!;
  const plateDispenses = analysis.commands.filter(
    (c) => c.commandType === 'dispense' && c.params.labwareId === plate.id,
  );
  return {
    result: analysis.result,
    commands,
    plateDispenses: plateDispenses.length,
    tips: Object.fromEntries(plan.pipettes.map((p) => [p.model, { tips: p.tipsUsed, racks: p.tipRackSlots.length }])),
  };
}

async function analyse(plan: ProtocolPlan) {
  const source = protocolSource(plan);
  const started = Date.now();
  const answer = await analyzer.analyse(source, `${plan.kind}.py`);
  const s = summary(plan, answer.analysis);
  console.log(
    `${plan.title} [${plan.apiLevel}, ${plan.pipettes.map((p) => p.model).join(' + ')}]: ${s.result} in ` +
      `${answer.seconds.toFixed(2)} s (${((Date.now() - started) / 1000).toFixed(2)} s round trip), ` +
      `${answer.analysis.commands.length} commands, tips ${JSON.stringify(s.tips)}`,
  );
  if (answer.analysis.result !== 'ok') console.log(JSON.stringify(answer.analysis.errors, null, 1).slice(0, 2000));
  return { ...s, analysis: answer.analysis };
}

describe('generated protocols pass the Opentrons analyzer', () => {
  for (const wells of [1, 36, 96]) {
    it(`seeds ${wells} wells`, async () => {
      const plan = planSeeding(seedRequest(wells), plannerConfig());
      const s = await analyse(plan);
      expect(s.result).toBe('ok');
      expect(s.plateDispenses).toBe(plan.finalTransfers.length);
      expect(plan.finalTransfers.flatMap((t) => t.wells).sort()).toEqual(
        seedRequest(wells)
          .wells.map((w) => w.well)
          .sort(),
      );
    });

    it(`doses ${wells} wells`, async () => {
      const plan = planDosing(doseRequest(wells), plannerConfig());
      const s = await analyse(plan);
      expect(s.result).toBe('ok');
      expect(s.plateDispenses).toBe(wells);
      if (wells === 96) console.log(`96-well dosing analysis summary: ${JSON.stringify(s.commands)}`);
    });
  }

  it('seeds and doses 96 wells with an 8-channel 1000 µL and a 1-channel 50 µL pipette', async () => {
    const seed = planSeeding(seedRequest(96), plannerConfig({ pipettes: EIGHT_CHANNEL }));
    const dose = planDosing(doseRequest(96), plannerConfig({ pipettes: EIGHT_CHANNEL }));
    expect(seed.finalTransfers).toHaveLength(12);
    expect(dose.finalTransfers).toHaveLength(12);
    for (const plan of [seed, dose]) expect((await analyse(plan)).result).toBe('ok');
  });

  it('analyses at the newest API level opentrons 10.1.0 supports (2.31) too', async () => {
    const plan = planDosing(doseRequest(36), plannerConfig({ apiLevel: '2.31' }));
    expect(protocolSource(plan)).toContain('"apiLevel": "2.31"');
    expect((await analyse(plan)).result).toBe('ok');
  });

  it("gives commands the robot API's own schemas accept", async () => {
    const { analysis } = await analyse(planDosing(doseRequest(8), plannerConfig()));
    const completed = {
      id: 'a1',
      status: 'completed',
      result: analysis.result,
      robotType: 'OT-3 Standard',
      runTimeParameters: [],
      commands: analysis.commands,
      labware: analysis.labware,
      pipettes: analysis.pipettes,
      modules: analysis.modules,
      liquids: analysis.liquids,
      errors: analysis.errors,
    };
    expect(checkSchema('CompletedAnalysis', completed)).toEqual([]);
  });
});
