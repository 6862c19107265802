import { describe, expect, it } from 'vitest';
import { planDosing } from '../../../src/instruments/opentrons/dose-plan';
import { PlateStepRefusedError } from '../../../src/instruments/opentrons/errors';
import { plannerConfig } from '../../../src/instruments/opentrons/flex-driver';
import type { ProtocolPlan } from '../../../src/instruments/opentrons/plan';
import { protocolSource } from '../../../src/instruments/opentrons/protocol-source';
import { planSeeding } from '../../../src/instruments/opentrons/seed-plan';
import { doseRequest, seedRequest } from './requests';

/** What the planner decides before any analyzer sees it: pure and fast. */

const EIGHT_ONLY = plannerConfig({ pipettes: [{ model: 'flex_8channel_1000', mount: 'left' }] });

/** Every aspiration from an operator-loaded well, summed, against what the plan tells the operator to load. */
function drawnAndLoaded(plan: ProtocolPlan) {
  const drawn = new Map<string, number>();
  const channels = new Map(plan.pipettes.map((p) => [p.name, p.model.includes('8channel') ? 8 : 1]));
  for (const s of plan.steps)
    if (s.op === 'aspirate' && (s.labware === 'reservoir' || s.labware === 'stocks')) {
      const key = `${s.labware} ${s.well}`;
      drawn.set(key, (drawn.get(key) ?? 0) + s.microlitres * channels.get(s.pipette)!);
    }
  const loaded = new Map(plan.liquids.flatMap((l) => l.wells.map((w) => [`${w.labware} ${w.well}`, w.microlitres])));
  return { drawn, loaded };
}

describe('Opentrons plans', () => {
  it('tells the operator to load at least what every source well gives', () => {
    for (const plan of [
      planSeeding(seedRequest(96), plannerConfig()),
      planDosing(doseRequest(96), plannerConfig()),
      planSeeding(seedRequest(96), EIGHT_ONLY),
    ]) {
      const { drawn, loaded } = drawnAndLoaded(plan);
      expect(drawn.size).toBeGreaterThan(0);
      for (const [well, microlitres] of drawn) expect(loaded.get(well)).toBeGreaterThan(microlitres);
    }
  });

  it('fills whole columns with an 8-channel pipette and refuses partial columns without a 1-channel one', () => {
    expect(planSeeding(seedRequest(96), EIGHT_ONLY).finalTransfers).toHaveLength(12);
    expect(() => planSeeding(seedRequest(36), EIGHT_ONLY)).toThrow(
      /8-channel pipette alone fills whole columns only; A5, B5, C5, D5/,
    );
    expect(() => planDosing(doseRequest(8), EIGHT_ONLY)).toThrow(PlateStepRefusedError);
  });

  it('refuses unknown wells, duplicates, a vehicle with a dose and a compound without stock, naming them', () => {
    const config = plannerConfig();
    const bad = (edit: (r: ReturnType<typeof doseRequest>) => void) => {
      const r = doseRequest(4);
      edit(r);
      return () => planDosing(r, config);
    };
    expect(bad((r) => (r.wells[0]!.well = 'J13'))).toThrow(/unknown well "J13"/);
    expect(bad((r) => (r.wells[1]!.well = 'A1'))).toThrow(/well A1 appears twice/);
    expect(bad((r) => (r.wells[0]!.doseMicromolar = 1))).toThrow(/well A1: 1 µM of nothing/);
    expect(bad((r) => (r.stocks = []))).toThrow(/no stock given for staurosporine/);
  });

  it('writes the API level, the key and the well map into the protocol', () => {
    const source = protocolSource(planDosing(doseRequest(2, { operationKey: 'p-x/dose' }), plannerConfig()));
    expect(source).toContain('requirements = {"robotType": "Flex", "apiLevel": "2.21"}');
    expect(source).toContain('operationKey: p-x/dose');
    expect(source).toMatch(/B1: staurosporine 0.001 µM final: 10 µL of 200 µL working solution/);
    expect(source).toContain('labware[place["labware"]][place["well"]].load_liquid(liquid, place["microlitres"])');
    const newer = protocolSource(planDosing(doseRequest(2), plannerConfig({ apiLevel: '2.31' })));
    expect(newer).toContain('labware[place["labware"]].load_liquid([place["well"]], place["microlitres"], liquid)');
  });

  it('loads the imaging plate definition for an imaging plate', () => {
    const config = plannerConfig({
      labware: { plate: { assay: 'corning_96_wellplate_360ul_flat', imaging: 'greiner_96_wellplate_323ul' } },
    });
    expect(planSeeding(seedRequest(8, { plateType: 'imaging' }), config).labware[0]!.loadName).toBe(
      'greiner_96_wellplate_323ul',
    );
    expect(planDosing(doseRequest(8, { plateType: 'imaging' }), config).labware[0]!.loadName).toBe(
      'greiner_96_wellplate_323ul',
    );
  });
});
