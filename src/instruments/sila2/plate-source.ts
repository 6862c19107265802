import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { z } from 'zod';

/**
 * The plate source: what a virtual SiLA 2 reader reads. In simulation a plate's physical state
 * lives in the virtual lab, inside the lab worker, while the reader is a separate SiLA 2 server
 * (Python); so the lab worker serves this small HTTP endpoint with the virtual lab as handler, and
 * the reader is started with `--plate-source <url>`. A real reader has no plate source: it reads
 * the plate in front of it.
 *
 *   POST /emission  EmissionRequest  →  200 EmissionResponse
 *                                     →  400 { error }  the request is refused (not worth repeating)
 *                                     →  500 { error }  the source failed; nothing was read
 *
 * The reader adds what a reader adds (read time, one read per Run Key); the source answers what
 * each well emits right now. `runKey` is passed along so the source can keep its own ledger.
 */
export const emissionRequestSchema = z.object({
  runKey: z.string().min(1),
  plateId: z.string().min(1),
  assay: z.enum(['viability', 'reporter']),
  wells: z.array(z.string()).min(1),
  treatmentHours: z.number().nonnegative(),
});
export type EmissionRequest = z.infer<typeof emissionRequestSchema>;

export interface SourceError {
  /** A failure type (e.g. "Contamination", "UnknownBiology"); it becomes the well's failure type. */
  type: string;
  message: string;
}

export type WellEmission = { well: string; signal: number } | { well: string; error: SourceError };

export interface EmissionResponse {
  /** Every requested well exactly once (any order). */
  wells: WellEmission[];
}

export type PlateSourceHandler = (request: EmissionRequest) => EmissionResponse | Promise<EmissionResponse>;

/** Thrown by a handler to refuse a request (HTTP 400): the reader reports it as an invalid read request. */
export class PlateSourceRefusal extends Error {
  constructor(
    readonly type: string,
    message: string,
  ) {
    super(message);
    this.name = 'PlateSourceRefusal';
  }
}

export interface PlateSourceServer {
  /** e.g. "http://127.0.0.1:41234", what the reader's `--plate-source` is given. */
  url: string;
  port: number;
  close(): Promise<void>;
}

export interface ServePlateSourceOptions {
  /** Loopback by default: the reader runs on the same host as the lab worker. */
  host?: string;
  /** 0 (default) picks a free port. */
  port?: number;
}

export const EMISSION_PATH = '/emission';

export function servePlateSource(
  handler: PlateSourceHandler,
  options: ServePlateSourceOptions = {},
): Promise<PlateSourceServer> {
  const server = createServer((req, res) => {
    handle(handler, req, res).catch((err: unknown) => reply(res, 500, { error: asSourceError(err) }));
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, options.host ?? '127.0.0.1', () => {
      server.off('error', reject);
      const { address, port } = server.address() as AddressInfo;
      const host = address.includes(':') ? `[${address}]` : address;
      resolve({
        url: `http://${host}:${port}`,
        port,
        close: () =>
          new Promise<void>((done) => {
            server.closeAllConnections();
            server.close(() => done());
          }),
      });
    });
  });
}

async function handle(handler: PlateSourceHandler, req: IncomingMessage, res: ServerResponse): Promise<void> {
  if (req.method !== 'POST' || req.url !== EMISSION_PATH) {
    reply(res, 404, { error: { type: 'NotFound', message: `only POST ${EMISSION_PATH} is served` } });
    return;
  }
  let body: unknown;
  try {
    body = JSON.parse(await readBody(req));
  } catch {
    reply(res, 400, { error: { type: 'InvalidOperation', message: 'the request body is not JSON' } });
    return;
  }
  const parsed = emissionRequestSchema.safeParse(body);
  if (!parsed.success) {
    const issues = parsed.error.issues.map((i) => `${i.path.join('.') || 'body'}: ${i.message}`).join('; ');
    reply(res, 400, { error: { type: 'InvalidOperation', message: `bad emission request: ${issues}` } });
    return;
  }
  try {
    reply(res, 200, await handler(parsed.data));
  } catch (err) {
    if (err instanceof PlateSourceRefusal) reply(res, 400, { error: { type: err.type, message: err.message } });
    else throw err;
  }
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

function reply(res: ServerResponse, status: number, body: unknown): void {
  if (res.headersSent) return;
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify(body));
}

function asSourceError(err: unknown): SourceError {
  return { type: 'PlateSourceError', message: err instanceof Error ? err.message : String(err) };
}
