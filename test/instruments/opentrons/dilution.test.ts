import { describe, expect, it } from 'vitest';
import { planWellDilution, type DilutionInputs } from '../../../src/instruments/opentrons/dilution';
import { planDosing } from '../../../src/instruments/opentrons/dose-plan';
import { PlateStepRefusedError } from '../../../src/instruments/opentrons/errors';
import { plannerConfig } from '../../../src/instruments/opentrons/flex-driver';
import { doseRequest } from './requests';

const base: DilutionInputs = {
  doseMicromolar: 1,
  stockMicromolar: 1_000,
  addedMicrolitres: 10,
  wellMicrolitres: 100,
  dmsoFinalFraction: 0.005,
  minimumMicrolitres: 1,
  maxWorkingMicrolitres: 1_900,
  workingDeadMicrolitres: 20,
  maxRung: 8,
};

/** What ends up in the cell well: final µM of compound and DMSO fraction. */
function inWell(input: DilutionInputs) {
  const result = planWellDilution(input);
  if (!result.ok) throw new Error(result.reason);
  const d = result.dilution;
  const rungMicromolar = d.rung === undefined ? 0 : input.stockMicromolar / 10 ** d.rung;
  const workingMicromolar = ((d.aliquotMicrolitres ?? 0) * rungMicromolar) / d.workingMicrolitres;
  const workingDmso = d.dmsoPartMicrolitres / d.workingMicrolitres;
  const final = input.wellMicrolitres + input.addedMicrolitres;
  return {
    d,
    doseMicromolar: (workingMicromolar * input.addedMicrolitres) / final,
    dmsoFraction: (workingDmso * input.addedMicrolitres) / final,
    volumesSum: d.mediumMicrolitres + d.neatDmsoMicrolitres + (d.aliquotMicrolitres ?? 0),
  };
}

describe('dilution maths', () => {
  it('gives every dose from 1 nM to the DMSO limit exactly, at exactly 0.5% DMSO, with no volume under 1 µL', () => {
    for (const dose of [0.001, 0.0037, 0.01, 0.05, 0.3, 1, 2.5, 4.6, 4.99, 5]) {
      const { d, doseMicromolar, dmsoFraction, volumesSum } = inWell({ ...base, doseMicromolar: dose });
      expect(doseMicromolar).toBeCloseTo(dose, 12);
      // Exact, except just under the DMSO limit where a top-up under 1 µL is left out (≤ 10% short).
      expect(dmsoFraction).toBeCloseTo(0.005 * (1 - d.dmsoShortfall), 12);
      if (dose !== 4.99) expect(d.dmsoShortfall).toBe(0);
      expect(d.dmsoShortfall).toBeLessThan(0.01);
      expect(volumesSum).toBeCloseTo(d.workingMicrolitres, 9);
      expect(d.aliquotMicrolitres!).toBeGreaterThanOrEqual(1 - 1e-9);
      expect(d.neatDmsoMicrolitres === 0 || d.neatDmsoMicrolitres >= 1 - 1e-9).toBe(true);
    }
  });

  it('makes a vehicle of medium and neat DMSO at the same DMSO fraction', () => {
    const { d, doseMicromolar, dmsoFraction } = inWell({ ...base, doseMicromolar: 0 });
    expect(d.rung).toBeUndefined();
    expect(doseMicromolar).toBe(0);
    expect(dmsoFraction).toBeCloseTo(0.005, 12);
    expect(d.neatDmsoMicrolitres).toBeCloseTo(11, 9);
  });

  it('goes down the ladder when the stock would need less than the pipetting floor', () => {
    // 1 nM from 1 mM: 0.0022 µL of stock; rung 3 (1 µM) gives 2.2 µL.
    expect(inWell({ ...base, doseMicromolar: 0.001 }).d).toMatchObject({ rung: 3 });
    expect(inWell({ ...base, doseMicromolar: 0.001 }).d.aliquotMicrolitres).toBeCloseTo(2.2, 9);
  });

  it('grows the working solution when the DMSO top-up would fall under the floor', () => {
    // 4.6 µM from 1 mM at 0.5%: 92% of the DMSO part is stock; 8% of 11 µL is < 1 µL.
    const { d } = inWell({ ...base, doseMicromolar: 4.6 });
    expect(d.workingMicrolitres).toBeGreaterThan(200);
    expect(d.neatDmsoMicrolitres).toBeGreaterThanOrEqual(1 - 1e-9);
  });

  it('refuses a dose the stock cannot give within the DMSO allowed', () => {
    const result = planWellDilution({ ...base, doseMicromolar: 10 });
    expect(result).toMatchObject({ ok: false });
    expect(!result.ok && result.reason).toMatch(/needs a stock of at least 2000 µM.*0\.5% DMSO/);
  });

  it('refuses a dosing request without the volume already in the well, naming the field', () => {
    const request = doseRequest(1);
    delete request.wells[0]!.wellVolumeMicrolitres;
    expect(() => planDosing(request, plannerConfig())).toThrow(PlateStepRefusedError);
    expect(() => planDosing(request, plannerConfig())).toThrow(/wellVolumeMicrolitres/);
  });
});
