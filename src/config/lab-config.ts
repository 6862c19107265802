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

export const labConfigSchema = z.strictObject({
  name: z.string().min(1).default('builtin lab'),
  liquidHandler: z
    .strictObject({ capacity: z.number().int().min(1).max(16).default(1), secondsPerTransfer: seconds.default(8) })
    .default({ capacity: 1, secondsPerTransfer: 8 }),
  plateReader: z
    .strictObject({ capacity: z.number().int().min(1).max(16).default(1), secondsPerWell: seconds.default(2) })
    .default({ capacity: 1, secondsPerWell: 2 }),
  imager: z
    .strictObject({ capacity: z.number().int().min(1).max(16).default(1), secondsPerWell: seconds.default(32) })
    .default({ capacity: 1, secondsPerWell: 32 }),
  incubator: z
    .strictObject({
      capacityPlates: z.number().int().min(1).max(1000).default(4),
      /** How often held slots are checked for campaigns that ended without releasing them. */
      reapIntervalSeconds: z.number().finite().min(1).max(3600).default(60),
    })
    .default({ capacityPlates: 4, reapIntervalSeconds: 60 }),
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

/** The seconds per operation instrument time is charged at (the one cost model reads these). */
export function instrumentTimings(config: LabConfig): InstrumentTimings {
  return {
    liquidHandlerSecondsPerTransfer: config.liquidHandler.secondsPerTransfer,
    readerSecondsPerWell: config.plateReader.secondsPerWell,
    imagerSecondsPerWell: config.imager.secondsPerWell,
  };
}
