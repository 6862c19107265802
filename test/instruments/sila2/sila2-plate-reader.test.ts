import { status as grpcStatus } from '@grpc/grpc-js';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ReadPlateRequest } from '../../../src/instruments/plate-driver';
import {
  PlateSourceRefusal,
  servePlateSource,
  type EmissionRequest,
  type PlateSourceServer,
  type WellEmission,
} from '../../../src/instruments/sila2/plate-source';
import { startSila2ReaderServer, type Sila2ReaderServer } from '../../../src/instruments/sila2/reader-server';
import { Sila2Fault } from '../../../src/instruments/sila2/sila-errors';
import { createSila2PlateReader, type Sila2PlateReader } from '../../../src/instruments/sila2/sila2-plate-reader';

/**
 * A real SiLA 2 server (the Python virtual reader in its venv) reading from a real plate source,
 * driven through the TypeScript gRPC client. The first run builds the venv (1.5–3 minutes on 2 shared cores).
 */
const VENV_AND_SERVER_START_TIMEOUT_MS = 10 * 60_000;

/** What the plate source says each well of plate "P-known" emits. */
const KNOWN: Record<string, WellEmission> = {
  A1: { well: 'A1', signal: 48213.625 },
  A2: { well: 'A2', signal: 0 },
  B7: { well: 'B7', signal: 1e-7 },
  C3: { well: 'C3', error: { type: 'Contamination', message: 'C3 is contaminated (turbid, pH shifted)' } },
  H12: { well: 'H12', signal: 123456789.5 },
};

const requests: EmissionRequest[] = [];
let flakyFailuresLeft = 1;
const seen = (runKey: string) => requests.filter((r) => r.runKey === runKey).length;

let source: PlateSourceServer;
let server: Sila2ReaderServer;
let reader: Sila2PlateReader;
let scratch: string;

beforeAll(async () => {
  scratch = mkdtempSync(join(tmpdir(), 'cellos-sila2-'));
  source = await servePlateSource((request) => {
    requests.push(request);
    if (request.plateId === 'P-flaky' && flakyFailuresLeft-- > 0) throw new Error('the virtual lab is busy');
    if (request.plateId === 'P-unknown') throw new PlateSourceRefusal('UnknownPlate', 'no plate P-unknown in the lab');
    return {
      wells: request.wells.map((well) => KNOWN[well] ?? { well, signal: 1000 + request.treatmentHours }),
    };
  });
  server = await startSila2ReaderServer({ plateSource: source.url, journal: join(scratch, 'reads.jsonl') });
  reader = createSila2PlateReader({ address: server.address });
}, VENV_AND_SERVER_START_TIMEOUT_MS);

afterAll(async () => {
  await reader?.close();
  await server?.stop();
  await source?.close();
  if (scratch) rmSync(scratch, { recursive: true, force: true });
});

const readRequest = (overrides: Partial<ReadPlateRequest> = {}): ReadPlateRequest => ({
  operationKey: 'campaign-x/run-1/7:readPlate',
  plateId: 'P-known',
  attempt: 1,
  assay: 'viability',
  wells: ['A1', 'A2', 'B7', 'C3', 'H12'],
  treatmentHours: 48,
  ...overrides,
});

describe('SiLA 2 plate reader driver', () => {
  it('answers its identity and status over SiLA 2', async () => {
    expect(await reader.identity()).toContain('cellOS virtual plate reader');
    expect(await reader.status()).toMatchObject({ state: 'Idle' });
  });

  it('reads a plate end to end: signals arrive intact and a failed well is that well’s failure', async () => {
    const report = await reader.readPlate(readRequest({ operationKey: 'end-to-end/read' }));
    expect(report).toEqual({
      operationKey: 'end-to-end/read',
      instrumentSeconds: 60,
      wells: [
        { well: 'A1', ok: true, value: { assay: 'viability', signal: 48213.625 } },
        { well: 'A2', ok: true, value: { assay: 'viability', signal: 0 } },
        { well: 'B7', ok: true, value: { assay: 'viability', signal: 1e-7 } },
        {
          well: 'C3',
          ok: false,
          failure: { type: 'Contamination', message: 'C3 is contaminated (turbid, pH shifted)' },
        },
        { well: 'H12', ok: true, value: { assay: 'viability', signal: 123456789.5 } },
      ],
    });
    expect(requests.find((r) => r.runKey === 'end-to-end/read')).toEqual({
      runKey: 'end-to-end/read',
      plateId: 'P-known',
      assay: 'viability',
      wells: ['A1', 'A2', 'B7', 'C3', 'H12'],
      treatmentHours: 48,
    });
  });

  it('returns the first read for a repeated run key without reading the plate again', async () => {
    const key = 'repeat/read';
    const first = await reader.readPlate(readRequest({ operationKey: key, plateId: 'P-2', wells: ['D4', 'D5'] }));
    const again = await reader.readPlate(
      readRequest({ operationKey: key, plateId: 'P-2', wells: ['D4', 'D5'], attempt: 2 }),
    );
    // A new connection, as after a lab worker restart, is still the same reader's memory.
    const other = createSila2PlateReader({ address: server.address });
    const third = await other.readPlate(readRequest({ operationKey: key, plateId: 'P-2', wells: ['D4', 'D5'] }));
    await other.close();
    expect(again).toEqual(first);
    expect(third).toEqual(first);
    expect(seen(key)).toBe(1);
  });

  it('refuses a run key reused for another plate, permanently', async () => {
    await reader.readPlate(readRequest({ operationKey: 'reused/read', plateId: 'P-3', wells: ['E1'] }));
    const err = await reader
      .readPlate(readRequest({ operationKey: 'reused/read', plateId: 'P-4', wells: ['E1'] }))
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(Sila2Fault);
    expect(err).toMatchObject({
      type: 'InvalidOperation',
      permanent: true,
      sila: { kind: 'definedExecutionError', errorIdentifier: expect.stringMatching(/\/RunKeyReused$/) },
    });
    expect(seen('reused/read')).toBe(1);
  });

  it('turns requests the feature rejects into permanent faults naming the problem', async () => {
    const notAWell = await reader
      .readPlate(readRequest({ operationKey: 'bad/well', wells: ['A1', 'Z9'] }))
      .catch((e: unknown) => e);
    expect(notAWell).toMatchObject({
      type: 'InvalidOperation',
      permanent: true,
      sila: { kind: 'validationError' },
    });
    expect((notAWell as Error).message).toContain('Z9');

    const twice = await reader
      .readPlate(readRequest({ operationKey: 'bad/twice', wells: ['A1', 'A1'] }))
      .catch((e: unknown) => e);
    expect(twice).toMatchObject({ type: 'InvalidOperation', permanent: true, sila: { kind: 'definedExecutionError' } });
    expect((twice as Error).message).toContain('more than once');
    expect(seen('bad/well') + seen('bad/twice')).toBe(0);
  });

  it('passes on a plate source refusing the request as a permanent fault', async () => {
    const err = await reader
      .readPlate(readRequest({ operationKey: 'unknown/read', plateId: 'P-unknown' }))
      .catch((e: unknown) => e);
    expect(err).toMatchObject({
      type: 'InvalidOperation',
      permanent: true,
      sila: { kind: 'definedExecutionError', errorIdentifier: expect.stringMatching(/\/InvalidReadRequest$/) },
    });
    expect((err as Error).message).toContain('UnknownPlate: no plate P-unknown in the lab');
  });

  it('treats a plate source that fails as transient: nothing is kept, and the retry reads', async () => {
    const request = readRequest({ operationKey: 'flaky/read', plateId: 'P-flaky', wells: ['F1', 'F2'] });
    const err = await reader.readPlate(request).catch((e: unknown) => e);
    expect(err).toMatchObject({
      type: 'InstrumentFault',
      permanent: false,
      sila: { kind: 'definedExecutionError', errorIdentifier: expect.stringMatching(/\/ReaderUnavailable$/) },
    });
    const retried = await reader.readPlate({ ...request, attempt: 2 });
    expect(retried.wells.map((w) => w.ok)).toEqual([true, true]);
    expect(seen('flaky/read')).toBe(2);
  });

  it('keeps its run key memory across a restart of the server (journal)', async () => {
    const restarted = await startSila2ReaderServer({
      plateSource: source.url,
      journal: join(scratch, 'reads.jsonl'),
    });
    const again = createSila2PlateReader({ address: restarted.address });
    try {
      const report = await again.readPlate(readRequest({ operationKey: 'end-to-end/read' }));
      expect(report.wells[0]).toEqual({ well: 'A1', ok: true, value: { assay: 'viability', signal: 48213.625 } });
      expect(seen('end-to-end/read')).toBe(1);
    } finally {
      await again.close();
      await restarted.stop();
    }
  });

  it('reports an unreachable server as a transient fault', async () => {
    const port = await closedPort();
    const nowhere = createSila2PlateReader({ address: `127.0.0.1:${port}`, readTimeoutMs: 5_000 });
    const started = Date.now();
    const err = await nowhere.readPlate(readRequest({ operationKey: 'nowhere/read' })).catch((e: unknown) => e);
    await nowhere.close();
    expect(err).toBeInstanceOf(Sila2Fault);
    expect(err).toMatchObject({
      type: 'InstrumentUnreachable',
      permanent: false,
      instrument: 'plate reader',
      sila: { kind: 'transport', grpcCode: grpcStatus.UNAVAILABLE },
    });
    expect(Date.now() - started).toBeLessThan(5_000);
  });
});

/** A port nothing listens on (bound, then released). */
function closedPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const address = srv.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      srv.close(() => resolve(port));
    });
  });
}
