import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { defaultPayloadConverter } from '@temporalio/common';
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/config/validation';
import {
  EncryptionCodec,
  ENCRYPTED_ENCODING,
  KEY_ID_METADATA,
  keyringFromEnv,
  loadKeysFile,
} from '../../src/temporal/codec';
import { newKey, writeKeysFile } from './keys';

const well = { cellLine: 'U2OS', compound: 'staurosporine', doseMicromolar: 0.0749894 };
const text = (bytes: Uint8Array | null | undefined) => Buffer.from(bytes ?? []).toString('utf8');

describe('AES-256-GCM payload codec', () => {
  it('encrypts a payload so neither its data nor its metadata shows the value, and decrypts it back', async () => {
    const codec = new EncryptionCodec(loadKeysFile(writeKeysFile('k1', { k1: newKey() })));
    const plain = defaultPayloadConverter.toPayload(well);
    const [sealed] = await codec.encode([plain]);
    expect(text(sealed!.metadata!.encoding)).toBe(ENCRYPTED_ENCODING);
    expect(text(sealed!.metadata![KEY_ID_METADATA])).toBe('k1');
    const everything = JSON.stringify(sealed) + Buffer.from(sealed!.data!).toString('latin1');
    for (const secret of ['U2OS', 'staurosporine', '0.0749894', 'json/plain']) expect(everything).not.toContain(secret);
    const [opened] = await codec.decode([sealed!]);
    expect(defaultPayloadConverter.fromPayload(opened!)).toEqual(well);
  });

  it('uses a fresh IV every time: the same value never encrypts to the same bytes', async () => {
    const codec = new EncryptionCodec(loadKeysFile(writeKeysFile('k1', { k1: newKey() })));
    const plain = defaultPayloadConverter.toPayload(well);
    const [a, b] = await codec.encode([plain, plain]);
    expect(Buffer.from(a!.data!).equals(Buffer.from(b!.data!))).toBe(false);
  });

  it('still reads a payload written under an old key after rotation, and writes new ones under the new key', async () => {
    const k1 = newKey();
    const k2 = newKey();
    const before = new EncryptionCodec(loadKeysFile(writeKeysFile('k1', { k1 })));
    const [old] = await before.encode([defaultPayloadConverter.toPayload(well)]);

    const rotated = new EncryptionCodec(loadKeysFile(writeKeysFile('k2', { k1, k2 })));
    const [opened] = await rotated.decode([old!]);
    expect(defaultPayloadConverter.fromPayload(opened!)).toEqual(well);
    const [fresh] = await rotated.encode([defaultPayloadConverter.toPayload(well)]);
    expect(text(fresh!.metadata![KEY_ID_METADATA])).toBe('k2');

    const withoutOldKey = new EncryptionCodec(loadKeysFile(writeKeysFile('k2', { k2 })));
    await expect(withoutOldKey.decode([old!])).rejects.toThrow(
      /encrypted with key "k1", which this process does not have \(it has: k2\)/,
    );
  });

  it('refuses a payload whose key id was changed or whose bytes were tampered with', async () => {
    const k1 = newKey();
    const codec = new EncryptionCodec(loadKeysFile(writeKeysFile('k1', { k1, k2: k1 })));
    const [sealed] = await codec.encode([defaultPayloadConverter.toPayload(well)]);
    const relabelled = { ...sealed!, metadata: { ...sealed!.metadata, [KEY_ID_METADATA]: Buffer.from('k2') } };
    await expect(codec.decode([relabelled])).rejects.toThrow(/failed authentication/);
    const flipped = Buffer.from(sealed!.data!);
    flipped[20] = flipped[20]! ^ 1;
    await expect(codec.decode([{ ...sealed!, data: flipped }])).rejects.toThrow(/failed authentication/);
  });

  it('passes payloads written before encryption was switched on through unchanged', async () => {
    const codec = new EncryptionCodec(loadKeysFile(writeKeysFile('k1', { k1: newKey() })));
    const plain = defaultPayloadConverter.toPayload(well);
    expect(await codec.decode([plain])).toEqual([plain]);
  });
});

describe('codec keys', () => {
  it('is off with no keys configured', () => {
    expect(keyringFromEnv({})).toBeUndefined();
  });

  it('reads one key from CELLOS_CODEC_KEY and CELLOS_CODEC_KEY_ID', () => {
    const ring = keyringFromEnv({ CELLOS_CODEC_KEY: newKey(), CELLOS_CODEC_KEY_ID: '2026-12' });
    expect(ring?.currentKeyId).toBe('2026-12');
    expect([...ring!.keys.keys()]).toEqual(['2026-12']);
  });

  it('reads JSON keys files as well as YAML', () => {
    const path = join(mkdtempSync(join(tmpdir(), 'cellos-keys-')), 'keys.json');
    writeFileSync(path, JSON.stringify({ current: 'a', keys: { a: newKey(), b: newKey() } }));
    const ring = loadKeysFile(path);
    expect(ring.currentKeyId).toBe('a');
    expect([...ring.keys.keys()]).toEqual(['a', 'b']);
  });

  it('names the field and the rule when a keys file is wrong', () => {
    const short = Buffer.alloc(16).toString('base64');
    expect(() => loadKeysFile(writeKeysFile('k9', { k1: newKey() }))).toThrow(/current: must name one of the keys/);
    expect(() => loadKeysFile(writeKeysFile('k1', { k1: short }))).toThrow(
      /keys\.k1: must be the base64 of exactly 32 random bytes/,
    );
    expect(() => keyringFromEnv({ CELLOS_CODEC_KEY: newKey(), CELLOS_CODEC_KEYS_FILE: '/x' })).toThrow(ConfigError);
    expect(() => keyringFromEnv({ CELLOS_CODEC_KEYS_FILE: '/nonexistent/keys.yaml' })).toThrow(/cannot be read/);
  });
});
