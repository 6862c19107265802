import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import type { InstrumentTimings } from '../domain/costs';
import { ConfigError, parseWith } from './validation';

/**
 * The lab's instruments: how many operations (or plates) each takes at once and how long an
 * operation takes in lab time. Read by the lab workers (capacity = worker slots and leases) and
 * by the orchestration worker (incubator plate slots). CELLOS_LAB_CONFIG points at a YAML file;
 * without it the built-in lab below is used.
 */
export const INSTRUMENTS = ['liquid-handler', 'plate-reader', 'imager', 'incubator'] as const;
export type Instrument = (typeof INSTRUMENTS)[number];

const seconds = z.number().finite().min(0).max(3600);
const capacity = z.number().int().min(1).max(16).default(1);

/**
 * Which driver serves an instrument. `virtual` (the default) is the virtual lab; `opentrons-flex`
 * drives an Opentrons Flex over its HTTP API (liquid handler only); `sila2` a SiLA 2 plate reader
 * over gRPC (plate reader only). Checked when the lab worker starts.
 */
const driverSchema = z.discriminatedUnion('driver', [
  z.strictObject({ driver: z.literal('virtual') }),
  z.strictObject({
    driver: z.literal('opentrons-flex'),
    /** The robot server, e.g. http://10.0.0.21:31950. */
    url: z.url({ protocol: /^https?$/ }),
    /** The driver's run ledger (one run per plate step, across restarts); default next to the lab file. */
    ledgerPath: z.string().min(1).optional(),
  }),
  z.strictObject({
    driver: z.literal('sila2'),
    /** host:port of the SiLA 2 server. */
    address: z.string().regex(/^[A-Za-z0-9.\-[\]:]+:\d{1,5}$/, 'host:port, e.g. 127.0.0.1:50052'),
  }),
]);
export type DriverChoice = z.infer<typeof driverSchema>;

export const labConfigSchema = z.strictObject({
  name: z.string().min(1).default('builtin lab'),
  /**
   * An 8-channel head: one tip load and one aspirate-dispense move serve a column of 8 wells that
   * get the same liquid; a well that differs from its column neighbours costs its own move.
   */
  liquidHandler: z
    .strictObject({
      capacity,
      channels: z.number().int().min(1).max(96).default(8),
      /** Picking up a set of tips (and dropping the last). */
      secondsPerTipLoad: seconds.default(6),
      /** One aspirate + dispense of the head. */
      secondsPerTransfer: seconds.default(8),
      /** Deck set-up and labware moves of one protocol run. */
      secondsPerRun: seconds.default(30),
    })
    .prefault({}),
  plateReader: z
    .strictObject({ capacity, secondsPerPlate: seconds.default(60), secondsPerWell: seconds.default(0) })
    .prefault({}),
  imager: z
    .strictObject({
      capacity,
      /** One exposure of one channel at one site. */
      secondsPerSite: seconds.default(1),
      sitesPerWell: z.number().int().min(1).max(100).default(9),
      channels: z.number().int().min(1).max(8).default(3),
      /** Moving to a well and focusing. */
      secondsPerWell: seconds.default(5),
    })
    .prefault({}),
  incubator: z
    .strictObject({
      capacityPlates: z.number().int().min(1).max(1000).default(4),
      /** How often held slots are checked for campaigns that ended without releasing them. */
      reapIntervalSeconds: z.number().finite().min(1).max(3600).default(60),
    })
    .prefault({}),
  /** Which driver serves each operation instrument (default: every one virtual). */
  drivers: z
    .strictObject({
      'liquid-handler': driverSchema.refine((d) => d.driver !== 'sila2', {
        message: 'the liquid handler is served by "virtual" or "opentrons-flex"',
      }),
      'plate-reader': driverSchema.refine((d) => d.driver !== 'opentrons-flex', {
        message: 'the plate reader is served by "virtual" or "sila2"',
      }),
      imager: driverSchema.refine((d) => d.driver === 'virtual', { message: 'the imager is served by "virtual"' }),
    })
    .partial()
    .prefault({}),
  /**
   * What the instruments act on. `virtual` (default): the virtual lab's cells, kept in step with
   * every plate step whichever driver ran it, so real drivers against simulated hardware (the
   * Opentrons fake robot, the virtual SiLA 2 reader) work on one coherent world. `physical`: real
   * cells; every instrument must then have a non-virtual driver.
   */
  world: z.enum(['virtual', 'physical']).default('virtual'),
});
export type LabConfig = z.infer<typeof labConfigSchema>;

export function builtinLabConfig(): LabConfig {
  return labConfigSchema.parse({});
}

export function loadLabConfig(path = process.env.CELLOS_LAB_CONFIG): LabConfig {
  if (!path) return builtinLabConfig();
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new ConfigError(path, [
      {
        field: '(file)',
        value: path,
        message: `cannot read the lab config (${(err as NodeJS.ErrnoException).code ?? 'error'})`,
      },
    ]);
  }
  let raw: unknown;
  try {
    raw = parseYaml(text);
  } catch (err) {
    throw new ConfigError(path, [
      { field: '(file)', value: undefined, message: `not valid YAML: ${(err as Error).message}` },
    ]);
  }
  return parseWith(labConfigSchema, raw ?? {}, path);
}

/** Operations an instrument runs at once (the incubator counts plates). */
export function instrumentCapacity(config: LabConfig, instrument: Instrument): number {
  switch (instrument) {
    case 'liquid-handler':
      return config.liquidHandler.capacity;
    case 'plate-reader':
      return config.plateReader.capacity;
    case 'imager':
      return config.imager.capacity;
    case 'incubator':
      return config.incubator.capacityPlates;
  }
}

/**
 * The seconds of instrument time each well is charged at (the one cost model reads these): a
 * transfer per well and step on the liquid handler, a 96th of a plate read (plus any per-well
 * time) on the reader, and a well's own exposures and focusing on the imager.
 */
export function instrumentTimings(config: LabConfig): InstrumentTimings {
  return {
    liquidHandlerSecondsPerTransfer: config.liquidHandler.secondsPerTransfer,
    readerSecondsPerWell: config.plateReader.secondsPerPlate / 96 + config.plateReader.secondsPerWell,
    imagerSecondsPerWell:
      config.imager.secondsPerWell + config.imager.sitesPerWell * config.imager.channels * config.imager.secondsPerSite,
  };
}
