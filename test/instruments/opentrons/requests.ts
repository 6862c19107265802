import type { DosePlateRequest, SeedPlateRequest } from '../../../src/instruments/plate-driver';
import { wellName } from '../../../src/lab/plate';
import { PROTOCOL } from '../../../src/domain/prices';

/** Plate-step requests as the lab would send them: column by column, two lines, a dose series with vehicles. */

export const DOSE_SERIES_MICROMOLAR = [0, 0.001, 0.003, 0.01, 0.03, 0.1, 0.3, 1, 3, 5];

export const STOCKS = [
  { compound: 'staurosporine', stockMicromolar: 1_000, lot: 'STS-0001' },
  { compound: 'tunicamycin', stockMicromolar: 5_000, lot: 'TUN-0001' },
];

export function plateWells(count: number): string[] {
  return Array.from({ length: count }, (_, i) => wellName({ rowIndex: i % 8, columnIndex: Math.floor(i / 8) }));
}

export function seedRequest(count: number, overrides: Partial<SeedPlateRequest> = {}): SeedPlateRequest {
  const plateId = overrides.plateId ?? `plate-${count}`;
  return {
    operationKey: `${plateId}/seed`,
    plateId,
    attempt: 1,
    plateType: 'assay',
    plateLabel: `test/${plateId}`,
    wells: plateWells(count).map((well, i) => ({
      well,
      // Whole columns of one line, so 8-channel configurations get whole columns to fill.
      cellLine: Math.floor(i / 8) % 2 === 0 ? 'U2OS' : 'HEK293T',
      cellsPerWell: PROTOCOL.cellsPerWell,
      volumeMicrolitres: PROTOCOL.mediumMicrolitres,
    })),
    ...overrides,
  };
}

export function doseRequest(count: number, overrides: Partial<DosePlateRequest> = {}): DosePlateRequest {
  const plateId = overrides.plateId ?? `plate-${count}`;
  return {
    operationKey: `${plateId}/dose`,
    plateId,
    attempt: 1,
    attachmentHours: 24,
    stocks: STOCKS,
    wells: plateWells(count).map((well, i) => {
      const dose = DOSE_SERIES_MICROMOLAR[i % DOSE_SERIES_MICROMOLAR.length]!;
      return {
        well,
        compound: dose === 0 ? '' : i % 3 === 0 ? 'tunicamycin' : 'staurosporine',
        doseMicromolar: dose,
        volumeMicrolitres: PROTOCOL.compoundAdditionMicrolitres,
        wellVolumeMicrolitres: PROTOCOL.mediumMicrolitres,
      };
    }),
    ...overrides,
  };
}
