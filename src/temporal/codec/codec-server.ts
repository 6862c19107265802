import { createHash, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import type { Payload, PayloadCodec } from '@temporalio/common';
import proto from '@temporalio/proto';
import { EncryptionCodec } from './encryption-codec';
import { keyringFromEnv } from './keyring';

/**
 * The codec server (`npm run codec-server`): Temporal's remote codec protocol over HTTP, so the
 * Web UI and the Temporal CLI (`--codec-endpoint`) can show encrypted payloads in clear to people
 * who hold the token. POST /encode and /decode take and return `{ payloads: [...] }` in protobuf
 * JSON (metadata values and data in base64).
 *
 * Every encode/decode call needs the token: `Authorization: Bearer <CELLOS_CODEC_TOKEN>` (the CLI's
 * `--codec-auth`), or the session cookie that GET / sets after the token is typed in once (a
 * browser running the Web UI cannot add a header of its own, but it sends cookies when the UI's
 * "include cross-origin credentials" is on). Browsers may call it only from the origins in
 * CELLOS_CODEC_CORS_ORIGINS (default the local Web UI, http://localhost:8233).
 */
export interface CodecServerOptions {
  codec: PayloadCodec;
  token: string;
  /** Origins allowed to call from a browser (CORS); exact matches such as http://localhost:8233. */
  allowedOrigins: readonly string[];
}

export const SESSION_COOKIE = 'cellos_codec_session';
export const DEFAULT_CODEC_PORT = 8888;
export const DEFAULT_UI_ORIGIN = 'http://localhost:8233';
const MAX_BODY_BYTES = 16 * 1024 * 1024;
const Payload = proto.temporal.api.common.v1.Payload;

export function createCodecServer(options: CodecServerOptions): Server {
  if (options.token.length < 16) throw new Error('CELLOS_CODEC_TOKEN must be at least 16 characters');
  const expected = digest(options.token);
  const authorised = (req: IncomingMessage): boolean => {
    const header = req.headers.authorization;
    const bearer = header?.startsWith('Bearer ') ? header.slice('Bearer '.length).trim() : undefined;
    const cookie = cookies(req)[SESSION_COOKIE];
    return [bearer, cookie].some((given) => given !== undefined && timingSafeEqual(digest(given), expected));
  };

  return createServer((req, res) => {
    const origin = req.headers.origin;
    const corsAllowed = origin !== undefined && options.allowedOrigins.includes(origin);
    if (corsAllowed) {
      res.setHeader('Access-Control-Allow-Origin', origin);
      res.setHeader('Access-Control-Allow-Credentials', 'true');
      res.setHeader('Vary', 'Origin');
    }
    const path = new URL(req.url ?? '/', 'http://codec').pathname;
    if (req.method === 'OPTIONS') {
      if (!corsAllowed) return send(res, 403, { error: `origin ${origin ?? '(none)'} is not allowed` });
      res.setHeader('Access-Control-Allow-Methods', 'POST, OPTIONS');
      res.setHeader('Access-Control-Allow-Headers', 'Authorization, Content-Type, X-Namespace');
      res.setHeader('Access-Control-Max-Age', '600');
      res.writeHead(204).end();
      return;
    }
    if (req.method === 'GET' && path === '/health') return send(res, 200, { ok: true });
    if (req.method === 'GET' && path === '/') return sendHtml(res, 200, LOGIN_PAGE);
    if (req.method === 'POST' && path === '/session') {
      void readBody(req).then(
        (body) => {
          const token = new URLSearchParams(body.toString('utf8')).get('token') ?? '';
          if (!timingSafeEqual(digest(token), expected)) return sendHtml(res, 401, page('Wrong token.'));
          res.setHeader(
            'Set-Cookie',
            `${SESSION_COOKIE}=${encodeURIComponent(token)}; HttpOnly; SameSite=Strict; Path=/`,
          );
          sendHtml(res, 200, page('This browser can now decode payloads in the Temporal Web UI.'));
        },
        (err: Error) => send(res, 400, { error: err.message }),
      );
      return;
    }
    // `/decode` or `/<namespace>/decode` (the CLI's --codec-endpoint may template in the namespace).
    const route = /^(?:\/[^/]+)?\/(encode|decode)$/.exec(path)?.[1];
    if (req.method === 'POST' && route) {
      if (!authorised(req)) {
        res.setHeader('WWW-Authenticate', 'Bearer');
        return send(res, 401, { error: 'a valid token is required (Authorization: Bearer <CELLOS_CODEC_TOKEN>)' });
      }
      void readBody(req)
        .then(async (body) => {
          const payloads = parsePayloads(body);
          const out = path === '/encode' ? await options.codec.encode(payloads) : await options.codec.decode(payloads);
          send(res, 200, { payloads: out.map(toJson) });
        })
        .catch((err: Error) => send(res, 400, { error: err.message }));
      return;
    }
    send(res, 404, { error: `no ${req.method} ${path}; use POST /encode or POST /decode` });
  });
}

function parsePayloads(body: Buffer): Payload[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body.toString('utf8'));
  } catch {
    throw new Error('the body must be JSON: { "payloads": [ { "metadata": {...}, "data": "<base64>" } ] }');
  }
  const payloads = (parsed as { payloads?: unknown } | null)?.payloads;
  if (!Array.isArray(payloads)) throw new Error('the body must have a "payloads" array');
  // protobufjs reads base64 strings into bytes fields (data and every metadata value).
  return payloads.map((p) => Payload.fromObject(p as Record<string, unknown>) as Payload);
}

function toJson(payload: Payload): Record<string, unknown> {
  return Payload.toObject(Payload.fromObject(payload), { bytes: String });
}

function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_BODY_BYTES) {
        reject(new Error(`the body is larger than ${MAX_BODY_BYTES} bytes`));
        req.destroy();
      } else chunks.push(chunk);
    });
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

function send(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'Content-Type': 'application/json' }).end(JSON.stringify(body));
}

function sendHtml(res: ServerResponse, status: number, html: string): void {
  res.writeHead(status, { 'Content-Type': 'text/html; charset=utf-8' }).end(html);
}

function cookies(req: IncomingMessage): Record<string, string> {
  const out: Record<string, string> = {};
  for (const part of (req.headers.cookie ?? '').split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0) out[part.slice(0, eq).trim()] = decodeURIComponent(part.slice(eq + 1).trim());
  }
  return out;
}

function digest(text: string): Buffer {
  return createHash('sha256').update(text).digest();
}

const page = (body: string) =>
  `<!doctype html><meta charset="utf-8"><title>cell_OS codec server</title><body style="font-family:sans-serif">${body}</body>`;
const LOGIN_PAGE = page(
  '<h1>cell_OS codec server</h1><p>Type the codec token once; this browser then keeps it in a cookie and the Temporal Web UI can decode payloads (turn on "include cross-origin credentials" in its codec settings).</p>' +
    '<form method="post" action="/session"><input type="password" name="token" autofocus> <button>Remember</button></form>',
);

export interface CodecServerSettings {
  host: string;
  port: number;
  token: string;
  allowedOrigins: string[];
}

export function codecServerSettings(argv: string[], env: NodeJS.ProcessEnv = process.env): CodecServerSettings {
  const { values } = parseArgs({
    args: argv,
    options: { port: { type: 'string' }, host: { type: 'string' } },
    strict: true,
  });
  const portText = values.port ?? env.CELLOS_CODEC_PORT ?? String(DEFAULT_CODEC_PORT);
  const port = Number(portText);
  if (!/^\d+$/.test(portText) || port < 1 || port > 65535) {
    throw new Error(`--port / CELLOS_CODEC_PORT: "${portText}" is not a port; allowed: 1-65535`);
  }
  const token = env.CELLOS_CODEC_TOKEN;
  if (!token) throw new Error('CELLOS_CODEC_TOKEN is not set; the codec server refuses to run without a token');
  return {
    host: values.host ?? env.CELLOS_CODEC_HOST ?? '127.0.0.1',
    port,
    token,
    allowedOrigins: (env.CELLOS_CODEC_CORS_ORIGINS ?? DEFAULT_UI_ORIGIN)
      .split(',')
      .map((o) => o.trim())
      .filter(Boolean),
  };
}

async function main(): Promise<void> {
  const settings = codecServerSettings(process.argv.slice(2));
  const keyring = keyringFromEnv();
  if (!keyring)
    throw new Error('no codec keys: set CELLOS_CODEC_KEYS_FILE (or CELLOS_CODEC_KEY and CELLOS_CODEC_KEY_ID)');
  const server = createCodecServer({ codec: new EncryptionCodec(keyring), ...settings });
  server.listen(settings.port, settings.host, () => {
    console.log(
      `codec server on http://${settings.host}:${settings.port} (keys: ${[...keyring.keys.keys()].join(', ')}; current ${keyring.currentKeyId}; CORS: ${settings.allowedOrigins.join(', ')})`,
    );
  });
  const stop = () => server.close(() => process.exit(0));
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  main().catch((err: Error) => {
    console.error(`error: ${err.message}`);
    process.exit(1);
  });
}
