import { describe, expect, it } from 'vitest';
import {
  expectedNormalisedResponse,
  hillFractionAlive,
  protocolIc50Micromolar,
  viableCellsAtRead,
  wellFractionAlive,
} from '../../src/lab/biology';
import { CONFLUENT_CELLS_PER_WELL } from '../../src/lab/plate';
import { streamFor } from '../../src/lab/rng';
import { biologyOf, mean, PROFILE, truthOf } from './fixtures';

const vehicleCulture = (cellLine: string, treatmentHours: number, edge = false) =>
  viableCellsAtRead({
    cellsSeeded: 10_000,
    biology: biologyOf(cellLine),
    edge,
    attachmentHours: 4,
    treatmentHours,
    fractionAlive: 1,
  });

describe('Hill dose response', () => {
  it('is the top at no dose, half-way at the IC50 and falls towards the bottom', () => {
    const truth = { ic50Micromolar: 0.2, hillSlope: 1.2, top: 1, bottom: 0.3, referenceHours: 24 };
    expect(hillFractionAlive(0, truth)).toBe(1);
    expect(hillFractionAlive(0.2, truth)).toBeCloseTo(0.65, 10);
    expect(hillFractionAlive(1e6, truth)).toBeCloseTo(0.3, 5);
    expect(hillFractionAlive(1, truth)).toBeLessThan(hillFractionAlive(0.1, truth));
  });

  it('scatters one well around the Hill effect by the line’s biological CV', () => {
    const truth = truthOf('U2OS', 'staurosporine');
    const wells = Array.from({ length: 4_000 }, (_, i) =>
      wellFractionAlive(0.2, truth, 0.06, streamFor(1, 'p', `w${i}`, 'dose')),
    );
    const effects = wells.map((f) => 1 - f);
    const m = mean(effects);
    expect(m).toBeCloseTo(0.5, 2);
    expect(Math.sqrt(mean(effects.map((e) => (e - m) ** 2))) / m).toBeCloseTo(0.06, 2);
  });

  it('leaves vehicle wells untouched whatever the noise', () => {
    expect(wellFractionAlive(0, truthOf('HeLa', 'cisplatin'), 0.5, streamFor(1, 'x'))).toBe(1);
  });
});

describe('culture growth', () => {
  it('roughly doubles a vehicle culture per doubling time once past the lag phase', () => {
    const at24 = vehicleCulture('HEK293T', 24);
    expect(at24 / 10_000).toBeGreaterThan(1.6); // ~21 effective hours of a 24 h doubling, minus confluence
    expect(at24 / 10_000).toBeLessThan(2);
  });

  it('grows slowly during the lag phase', () => {
    const biology = biologyOf('HeLa');
    const grown = (attachmentHours: number) =>
      viableCellsAtRead({
        cellsSeeded: 1_000,
        biology,
        edge: false,
        attachmentHours,
        treatmentHours: 0,
        fractionAlive: 1,
      });
    const firstSixHours = grown(6) / grown(0);
    const nextSixHours = grown(18) / grown(12);
    expect(firstSixHours).toBeLessThan(nextSixHours);
    expect(nextSixHours).toBeCloseTo(2 ** (6 / 20), 2);
  });

  it('never grows past the line’s maximum confluence', () => {
    const biology = biologyOf('Jurkat');
    const cells = viableCellsAtRead({
      cellsSeeded: 20_000,
      biology,
      edge: false,
      attachmentHours: 4,
      treatmentHours: 240,
      fractionAlive: 1,
    });
    expect(cells).toBeLessThanOrEqual(biology.maxConfluence * CONFLUENT_CELLS_PER_WELL);
    expect(cells).toBeGreaterThan(0.95 * biology.maxConfluence * CONFLUENT_CELLS_PER_WELL);
  });

  it('grows edge wells more slowly', () => {
    expect(vehicleCulture('U2OS', 24, true)).toBeLessThan(0.95 * vehicleCulture('U2OS', 24, false));
  });
});

describe('treatment of counted cells', () => {
  it('matches the Hill fraction alive relative to vehicle after the reference 24 h', () => {
    for (const [line, compound, dose] of [
      ['U2OS', 'staurosporine', 0.1],
      ['HEK293T', 'tunicamycin', 1],
      ['Jurkat', 'paclitaxel', 0.002],
      ['CHO', 'cisplatin', 3],
    ] as const) {
      const truth = truthOf(line, compound);
      expect(truth.referenceHours).toBe(24);
      const response = expectedNormalisedResponse({
        biology: biologyOf(line),
        truth,
        doseMicromolar: dose,
        cellsSeeded: 10_000,
        attachmentHours: 4,
        treatmentHours: 24,
      });
      expect(response).toBeCloseTo(hillFractionAlive(dose, truth), 4);
    }
  });

  it('looks more potent after 48 h than after 24 h, as growth inhibition compounds', () => {
    const input = { biology: biologyOf('HEK293T'), truth: truthOf('HEK293T', 'tunicamycin'), attachmentHours: 4 };
    const at24 = protocolIc50Micromolar({ ...input, cellsSeeded: 10_000, treatmentHours: 24 });
    const at48 = protocolIc50Micromolar({ ...input, cellsSeeded: 5_000, treatmentHours: 48 });
    expect(at24).toBeCloseTo(0.8, 3);
    expect(at48).toBeDefined();
    expect(at48 as number).toBeLessThan(0.7);
  });

  it.each([24, 48, 72])(
    'reproduces a full-range curve stated at %s h: the protocol IC50 at that treatment length is the stated IC50',
    (referenceHours) => {
      const truth = { ic50Micromolar: 0.5, hillSlope: 1, top: 1, bottom: 0, referenceHours };
      for (const line of Object.keys(PROFILE.cellLines)) {
        const ic50 = protocolIc50Micromolar({
          biology: biologyOf(line),
          truth,
          cellsSeeded: 10_000,
          attachmentHours: 4,
          treatmentHours: referenceHours,
        });
        expect(ic50, line).toBeDefined();
        expect(Math.abs((ic50 as number) / truth.ic50Micromolar - 1), line).toBeLessThan(0.02);
      }
      // Read at another length, the same curve shifts: the reference time is what the values hold at.
      const other = referenceHours === 24 ? 48 : 24;
      const shifted = protocolIc50Micromolar({
        biology: biologyOf('HEK293T'),
        truth,
        cellsSeeded: 10_000,
        attachmentHours: 4,
        treatmentHours: other,
      });
      expect(Math.abs((shifted as number) / truth.ic50Micromolar - 1)).toBeGreaterThan(0.05);
    },
  );

  it('has no absolute IC50 when the bottom plateau stays above half', () => {
    const truth = { ic50Micromolar: 1, hillSlope: 1, top: 1, bottom: 0.6, referenceHours: 24 };
    const ic50 = protocolIc50Micromolar({
      biology: biologyOf('HeLa'),
      truth,
      cellsSeeded: 10_000,
      attachmentHours: 4,
      treatmentHours: 24,
    });
    expect(ic50).toBeUndefined();
  });

  it('kills gradually rather than at the instant of dosing', () => {
    const treated = (treatmentHours: number) =>
      viableCellsAtRead({
        cellsSeeded: 10_000,
        biology: biologyOf('HeLa'),
        edge: false,
        attachmentHours: 4,
        treatmentHours,
        fractionAlive: 0.2,
      });
    expect(treated(0)).toBeCloseTo(vehicleCulture('HeLa', 0), 6);
    expect(treated(2)).toBeGreaterThan(treated(8));
  });
});
