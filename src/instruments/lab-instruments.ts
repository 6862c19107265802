import { dirname, join } from 'node:path';
import type { LabActivityDependencies } from '../activities/lab-activities';
import type { LabConfig } from '../config/lab-config';
import type { VirtualLab } from '../lab/virtual-lab';
import type { OperationInstrument } from '../temporal/task-queues';
import { createOpentronsFlexDriver } from './opentrons/flex-driver';
import { createSila2PlateReader } from './sila2/sila2-plate-reader';
import { servePlateSource, type PlateSourceServer } from './sila2/plate-source';
import type { RawReadout } from '../domain/types';

/**
 * Which driver serves which instrument, from the lab config's `drivers` (default: the virtual lab
 * for all). One lab worker per instrument host opens only the drivers of the instruments it
 * serves. Where the world is virtual and a driver is real (the Opentrons driver against a robot
 * that moves no cells, or the virtual SiLA 2 reader), the virtual lab stays the world: it repeats
 * each liquid-handling step under the same key, and it is the plate source the SiLA 2 reader reads.
 */
export type LabInstruments = LabActivityDependencies['instruments'] & {
  /** The plate source a virtual SiLA 2 reader reads from, when this worker serves one. */
  plateSource?: PlateSourceServer;
  /** One line per instrument: which driver serves it. */
  describe(): string[];
  close(): Promise<void>;
};

export class LabInstrumentsError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'LabInstrumentsError';
  }
}

export async function openLabInstruments(options: {
  labConfig: LabConfig;
  virtualLab: VirtualLab;
  /** The lab file (the Opentrons run ledger defaults to a file beside it). */
  labDbPath: string;
  /** The instruments this worker serves (default all). */
  serving?: readonly OperationInstrument[];
  /** Port of the plate source for a virtual SiLA 2 reader (default: CELLOS_PLATE_SOURCE_PORT, else a free one). */
  plateSourcePort?: number;
}): Promise<LabInstruments> {
  const { labConfig, virtualLab } = options;
  const serving = new Set(options.serving ?? (['liquid-handler', 'plate-reader', 'imager'] as const));
  const choice = (instrument: OperationInstrument) =>
    serving.has(instrument)
      ? (labConfig.drivers[instrument] ?? { driver: 'virtual' as const })
      : { driver: 'virtual' as const };
  const lh = choice('liquid-handler');
  const reader = choice('plate-reader');
  const simulated = new Set<OperationInstrument>();
  for (const instrument of serving) if (choice(instrument).driver === 'virtual') simulated.add(instrument);
  if (labConfig.world === 'physical' && simulated.size > 0)
    throw new LabInstrumentsError(
      `lab config: world is "physical" but ${[...simulated].join(', ')} ${simulated.size === 1 ? 'is' : 'are'} served by ` +
        `the virtual lab; give ${simulated.size === 1 ? 'it' : 'each'} a real driver under drivers: (or set world: virtual)`,
    );
  const closers: (() => Promise<void>)[] = [];
  const liquidHandler =
    lh.driver === 'opentrons-flex'
      ? createOpentronsFlexDriver({
          url: lh.url,
          ledgerPath: lh.ledgerPath ?? join(dirname(options.labDbPath), 'opentrons-runs.db'),
        })
      : virtualLab;
  if (liquidHandler !== virtualLab) closers.push(() => liquidHandler.close());
  const plateReader = reader.driver === 'sila2' ? createSila2PlateReader({ address: reader.address }) : virtualLab;
  if (plateReader !== virtualLab) closers.push(() => plateReader.close());
  let plateSource: PlateSourceServer | undefined;
  if (reader.driver === 'sila2' && labConfig.world === 'virtual') {
    plateSource = await servePlateSource(
      async (request) => {
        const report = await virtualLab.readPlate({
          operationKey: request.runKey,
          plateId: request.plateId,
          attempt: 1,
          assay: request.assay,
          wells: request.wells,
          treatmentHours: request.treatmentHours,
        });
        return {
          wells: report.wells.map((w) =>
            w.ok ? { well: w.well, signal: (w.value as RawReadout).signal } : { well: w.well, error: w.failure },
          ),
        };
      },
      { port: options.plateSourcePort ?? Number(process.env.CELLOS_PLATE_SOURCE_PORT ?? 0) },
    );
    const source = plateSource;
    closers.push(() => source.close());
  }
  return {
    liquidHandler,
    plateReader,
    imager: virtualLab,
    simulated,
    virtualWorld: labConfig.world === 'virtual' && liquidHandler !== virtualLab ? virtualLab : undefined,
    responsive: (attempt) => virtualLab.responsive?.(attempt) ?? true,
    plateSource,
    describe: () =>
      [...serving].map((instrument) => {
        const d = choice(instrument);
        if (d.driver === 'opentrons-flex') return `${instrument}: Opentrons Flex at ${d.url}`;
        if (d.driver === 'sila2')
          return `${instrument}: SiLA 2 reader at ${d.address}${plateSource ? ` (plate source ${plateSource.url})` : ''}`;
        return `${instrument}: virtual lab`;
      }),
    async close() {
      for (const close of closers.reverse()) await close();
    },
  };
}
