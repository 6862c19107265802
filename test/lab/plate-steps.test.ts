import { afterEach, describe, expect, it } from 'vitest';
import { LabFault } from '../../src/lab/driver';
import { LabStore } from '../../src/lab/lab-store';
import { wellForIndex } from '../../src/lab/plate';
import type { VirtualLab } from '../../src/lab/virtual-lab';
import { labWith, NO_FAULTS, tempDbPath } from './fixtures';

/**
 * The virtual lab by plate step: one run per plate step, answered well by well, exactly once per
 * key however often the step is retried, and a failed well failing only itself.
 */
const open: VirtualLab[] = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((lab) => lab.close()));
});

const WELLS = Array.from({ length: 24 }, (_, i) => wellForIndex(i));
const seedRequest = (attempt: number, wells = WELLS) => ({
  operationKey: 'p-steps/seed',
  plateId: 'p-steps',
  attempt,
  plateType: 'assay' as const,
  plateLabel: 'steps/p001',
  wells: wells.map((well) => ({ well, cellLine: 'U2OS', cellsPerWell: 10_000, volumeMicrolitres: 100 })),
});

describe('plate steps on the virtual lab', () => {
  it('finishes a seed run cut short halfway on its retry, without seeding any well twice or losing one', async () => {
    const dbPath = tempDbPath();
    // A transient error drawn per well and attempt: some attempt fails partway through the plate.
    const lab = labWith(dbPath, { faults: { ...NO_FAULTS, transientErrorRate: 0.3 } });
    open.push(lab);
    let attempt = 0;
    let cutShort = 0;
    let report: Awaited<ReturnType<VirtualLab['seedPlate']>> | undefined;
    while (!report && attempt < 50) {
      attempt++;
      try {
        report = await lab.seedPlate(seedRequest(attempt));
      } catch (err) {
        expect(err).toBeInstanceOf(LabFault);
        expect((err as LabFault).permanent).toBe(false);
        cutShort++;
      }
    }
    expect(cutShort).toBeGreaterThan(0); // the run really was interrupted
    expect(report!.wells.map((w) => w.well)).toEqual(WELLS);
    expect(report!.wells.every((w) => w.ok)).toBe(true);
    const store = LabStore.open(dbPath);
    try {
      const seeds = store.listOperations({ kind: 'seed', plateId: 'p-steps' });
      expect(seeds).toHaveLength(WELLS.length); // each well once, whatever the attempts
      expect(new Set(seeds.map((o) => o.operationKey))).toEqual(new Set(WELLS.map((w) => `p-steps/seed/${w}`)));
    } finally {
      store.close();
    }
    // A repeat of the finished step answers from the record, unchanged.
    expect((await lab.seedPlate(seedRequest(attempt + 1))).wells).toEqual(report!.wells);
  });

  it('fails only the wells that cannot be done and reports the rest', async () => {
    const lab = labWith(tempDbPath());
    open.push(lab);
    await lab.seedPlate(seedRequest(1, ['B2', 'B3']));
    const dose = await lab.dosePlate({
      operationKey: 'p-steps/dose',
      plateId: 'p-steps',
      attempt: 1,
      attachmentHours: 4,
      stocks: [],
      wells: [
        { well: 'B2', compound: 'staurosporine', doseMicromolar: 0.1, volumeMicrolitres: 10 },
        { well: 'B3', compound: 'no-such-compound', doseMicromolar: 0.1, volumeMicrolitres: 10 },
        { well: 'B4', compound: 'staurosporine', doseMicromolar: 0.1, volumeMicrolitres: 10 },
      ],
    });
    expect(dose.wells[0]).toMatchObject({ well: 'B2', ok: true });
    expect(dose.wells[1]).toMatchObject({ well: 'B3', ok: false, failure: { type: 'UnknownBiology' } });
    expect(dose.wells[2]).toMatchObject({ well: 'B4', ok: false, failure: { type: 'InvalidOperation' } });
    expect(dose.instrumentSeconds).toBeGreaterThan(0);
  });
});
