import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import { defaultPayloadConverter } from '@temporalio/common';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCodecServer, SESSION_COOKIE } from '../../src/temporal/codec/codec-server';
import { EncryptionCodec, loadKeysFile } from '../../src/temporal/codec';
import { newKey, writeKeysFile } from './keys';

const TOKEN = 'codec-test-token-0123456789';
const UI = 'http://localhost:8233';
const codec = new EncryptionCodec(loadKeysFile(writeKeysFile('k1', { k1: newKey() })));
let server: Server;
let base: string;

beforeAll(async () => {
  server = createCodecServer({ codec, token: TOKEN, allowedOrigins: [UI] });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  await new Promise<void>((r) => server.close(() => r()));
});

/** One encrypted payload as the Web UI sends it: protobuf JSON, bytes in base64. */
async function encryptedBody(value: unknown): Promise<string> {
  const [sealed] = await codec.encode([defaultPayloadConverter.toPayload(value)]);
  const metadata = Object.fromEntries(
    Object.entries(sealed!.metadata!).map(([k, v]) => [k, Buffer.from(v).toString('base64')]),
  );
  return JSON.stringify({ payloads: [{ metadata, data: Buffer.from(sealed!.data!).toString('base64') }] });
}

describe('codec server', () => {
  it('decodes payloads for a caller with the bearer token', async () => {
    const res = await fetch(`${base}/decode`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${TOKEN}`, 'Content-Type': 'application/json', 'X-Namespace': 'default' },
      body: await encryptedBody({ compound: 'tunicamycin' }),
    });
    expect(res.status).toBe(200);
    const { payloads } = (await res.json()) as { payloads: { metadata: Record<string, string>; data: string }[] };
    expect(Buffer.from(payloads[0]!.metadata.encoding!, 'base64').toString()).toBe('json/plain');
    expect(JSON.parse(Buffer.from(payloads[0]!.data, 'base64').toString())).toEqual({ compound: 'tunicamycin' });
  });

  it('refuses to decode without the token, or with a wrong one (401)', async () => {
    const body = await encryptedBody({ compound: 'tunicamycin' });
    const none = await fetch(`${base}/decode`, { method: 'POST', body });
    expect(none.status).toBe(401);
    expect(none.headers.get('www-authenticate')).toBe('Bearer');
    expect(await none.text()).not.toContain('tunicamycin');
    const wrong = await fetch(`${base}/decode`, { method: 'POST', body, headers: { Authorization: 'Bearer nope' } });
    expect(wrong.status).toBe(401);
    const encode = await fetch(`${base}/encode`, { method: 'POST', body: '{"payloads":[]}' });
    expect(encode.status).toBe(401);
  });

  it('encodes what it decodes (round trip through /encode and /decode)', async () => {
    const auth = { Authorization: `Bearer ${TOKEN}` };
    const plain = defaultPayloadConverter.toPayload({ dose: 0.3 });
    const body = JSON.stringify({
      payloads: [
        {
          metadata: { encoding: Buffer.from(plain.metadata!.encoding!).toString('base64') },
          data: Buffer.from(plain.data!).toString('base64'),
        },
      ],
    });
    const encoded = await (await fetch(`${base}/encode`, { method: 'POST', headers: auth, body })).text();
    expect(encoded).not.toContain(Buffer.from(plain.data!).toString('base64'));
    const decoded = (await (
      await fetch(`${base}/decode`, { method: 'POST', headers: auth, body: encoded })
    ).json()) as {
      payloads: { data: string }[];
    };
    expect(JSON.parse(Buffer.from(decoded.payloads[0]!.data, 'base64').toString())).toEqual({ dose: 0.3 });
  });

  it('answers CORS preflights from the Web UI origin only, with credentials allowed', async () => {
    const ok = await fetch(`${base}/decode`, {
      method: 'OPTIONS',
      headers: { Origin: UI, 'Access-Control-Request-Headers': 'x-namespace,content-type,authorization' },
    });
    expect(ok.status).toBe(204);
    expect(ok.headers.get('access-control-allow-origin')).toBe(UI);
    expect(ok.headers.get('access-control-allow-credentials')).toBe('true');
    expect(ok.headers.get('access-control-allow-headers')).toMatch(/X-Namespace/);
    const other = await fetch(`${base}/decode`, { method: 'OPTIONS', headers: { Origin: 'http://evil.example' } });
    expect(other.status).toBe(403);
    expect(other.headers.get('access-control-allow-origin')).toBeNull();
  });

  it('lets a browser hold the token in a cookie after typing it once (for the Web UI)', async () => {
    const wrong = await fetch(`${base}/session`, { method: 'POST', body: 'token=nope' });
    expect(wrong.status).toBe(401);
    expect(wrong.headers.get('set-cookie')).toBeNull();
    const login = await fetch(`${base}/session`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ token: TOKEN }).toString(),
    });
    expect(login.status).toBe(200);
    const cookie = login.headers.get('set-cookie')!;
    expect(cookie).toMatch(new RegExp(`^${SESSION_COOKIE}=.*HttpOnly`));
    const res = await fetch(`${base}/decode`, {
      method: 'POST',
      headers: { Origin: UI, Cookie: cookie.split(';')[0]! },
      body: await encryptedBody({ compound: 'tunicamycin' }),
    });
    expect(res.status).toBe(200);
    expect(res.headers.get('access-control-allow-origin')).toBe(UI);
  });

  it('serves /<namespace>/decode too, for a namespace-templated endpoint', async () => {
    const res = await fetch(`${base}/default/decode`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${TOKEN}` },
      body: await encryptedBody({ compound: 'tunicamycin' }),
    });
    expect(res.status).toBe(200);
    expect((await fetch(`${base}/a/b/decode`, { method: 'POST' })).status).toBe(404);
  });

  it('says what is wrong with a malformed body', async () => {
    const res = await fetch(`${base}/decode`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${TOKEN}` },
      body: '{}',
    });
    expect(res.status).toBe(400);
    expect(((await res.json()) as { error: string }).error).toMatch(/"payloads" array/);
  });
});
