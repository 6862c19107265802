import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { SILA2_READER_DIR } from '../../../src/instruments/sila2/python-env';
import { PLATE_READER_PROTO } from '../../../src/instruments/sila2/protos';

/** `npm run sila2 -- codegen` keeps these in step; this catches a feature edited without it. */
describe('committed SiLA 2 definitions', () => {
  const generated = join(SILA2_READER_DIR, 'cellos_plate_reader', 'generated', 'platereader');

  it('serves the feature definition it was generated from', () => {
    expect(readFileSync(join(generated, 'PlateReader.sila.xml'), 'utf8')).toBe(
      readFileSync(join(SILA2_READER_DIR, 'PlateReader.sila.xml'), 'utf8'),
    );
  });

  it('gives the TypeScript client the proto the server was generated with', () => {
    expect(readFileSync(PLATE_READER_PROTO, 'utf8')).toBe(readFileSync(join(generated, 'PlateReader.proto'), 'utf8'));
  });
});
