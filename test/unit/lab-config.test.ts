import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { builtinLabConfig, labConfigSchema, loadLabConfig } from '../../src/config/lab-config';
import { openLabInstruments } from '../../src/instruments/lab-instruments';
import {
  dosePlateSeconds,
  imagePlateSeconds,
  readPlateSeconds,
  seedPlateSeconds,
} from '../../src/instruments/plate-time';
import { createVirtualLab } from '../../src/lab/virtual-lab';
import { wellForIndex } from '../../src/lab/plate';

/** The lab config: timings of plate steps from the work done, and which driver serves each instrument. */
function configFile(text: string): string {
  const path = join(mkdtempSync(join(tmpdir(), 'cellos-lab-config-')), 'lab.yaml');
  writeFileSync(path, text);
  return path;
}

describe('the lab config', () => {
  it('reads the example config, drivers included', () => {
    const config = loadLabConfig('examples/lab-config.yaml');
    expect(config.drivers['liquid-handler']).toEqual({ driver: 'opentrons-flex', url: 'http://127.0.0.1:31950' });
    expect(config.drivers['plate-reader']).toEqual({ driver: 'sila2', address: '127.0.0.1:50052' });
    expect(config.liquidHandler.channels).toBe(8);
    expect(config.world).toBe('virtual');
  });

  it('refuses a driver on the wrong instrument and a bad address, naming the field', () => {
    expect(() =>
      loadLabConfig(configFile('drivers:\n  plate-reader: { driver: opentrons-flex, url: "http://x:31950" }\n')),
    ).toThrow(/drivers\.plate-reader.*"virtual" or "sila2"/s);
    expect(() =>
      loadLabConfig(configFile('drivers:\n  plate-reader: { driver: sila2, address: "no port" }\n')),
    ).toThrow(/drivers\.plate-reader\.address.*host:port/s);
    expect(() => loadLabConfig(configFile('drivers:\n  liquid-handler: { driver: hamilton }\n'))).toThrow(
      /drivers\.liquid-handler/,
    );
  });

  it('refuses a physical world whose instruments are still virtual, before any worker starts', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'cellos-world-'));
    const labConfig = labConfigSchema.parse({ world: 'physical' });
    const virtualLab = createVirtualLab({ dbPath: join(dir, 'lab.db') });
    try {
      await expect(
        openLabInstruments({ labConfig, virtualLab, labDbPath: join(dir, 'lab.db'), serving: ['plate-reader'] }),
      ).rejects.toThrow(/world is "physical" but plate-reader is served by the virtual lab/);
    } finally {
      await virtualLab.close();
    }
  });
});

describe('plate-step instrument time', () => {
  const config = builtinLabConfig();
  const wells = (n: number, liquid: (i: number) => string) =>
    Array.from({ length: n }, (_, i) => ({
      well: wellForIndex(i),
      cellLine: 'U2OS',
      cellsPerWell: 10_000,
      volumeMicrolitres: 100,
      compound: liquid(i),
      doseMicromolar: 1,
    }));

  it('seeds a column of one line in one head move, and a column of mixed lines in one move per line', () => {
    // The 60 interior wells fill rows B..G of columns 2..11, row by row.
    const same = wells(60, () => 'x');
    const moves = (seconds: number) => (seconds - 30) / (6 + 8);
    expect(moves(seedPlateSeconds(config, same))).toBe(10); // 10 interior columns of 6 wells each
    const mixed = same.map((w, i) => ({ ...w, cellLine: Math.floor(i / 10) % 2 === 0 ? 'U2OS' : 'HeLa' })); // by row
    expect(moves(seedPlateSeconds(config, mixed))).toBe(20);
  });

  it('doses distinct doses one move each after preparing each dilution, and reads a plate in about a minute', () => {
    const distinct = wells(12, (i) => `c${i}`).map((w) => ({ ...w, volumeMicrolitres: 10 }));
    // 12 dilutions to prepare + 12 wells that each differ from their column neighbours.
    expect((dosePlateSeconds(config, distinct) - 30) / 14).toBe(24);
    expect(readPlateSeconds(config, 96)).toBe(60);
    expect(imagePlateSeconds(config, 10)).toBe(10 * (5 + 9 * 3 * 1)); // DOMAIN: 3 channels × 9 sites, 1 s each, 5 s per well
  });
});
