import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { ConfigError, parseWith } from '../../config/validation';

/**
 * The payload-encryption keys of this process: one `current` key that encrypts, and every key
 * (old ones included) that may still decrypt. A rotation adds a key and moves `current` to it;
 * payloads written under the old key name it in their metadata and keep decrypting as long as the
 * old key stays in the file.
 *
 * Read from CELLOS_CODEC_KEYS_FILE (JSON or YAML `{ current: id, keys: { id: base64 } }`) or,
 * for one key, CELLOS_CODEC_KEY (base64 of 32 bytes) with CELLOS_CODEC_KEY_ID (default "default").
 * With neither set, encryption is off.
 */
export interface Keyring {
  currentKeyId: string;
  keys: ReadonlyMap<string, Buffer>;
}

export const KEY_BYTES = 32;
const KEY_ID = /^[A-Za-z0-9._-]{1,64}$/;

const keyIdSchema = z.string().regex(KEY_ID, 'must be 1-64 letters, digits, ".", "_" or "-"');
const keyValueSchema = z
  .string()
  .refine((text) => decodeKey(text) !== undefined, `must be the base64 of exactly ${KEY_BYTES} random bytes`);

export const keysFileSchema = z
  .strictObject({
    current: keyIdSchema,
    keys: z
      .record(keyIdSchema, keyValueSchema)
      .refine((keys) => Object.keys(keys).length > 0, 'needs at least one key'),
  })
  .refine((file) => file.current in file.keys, {
    message: 'must name one of the keys under "keys"',
    path: ['current'],
  });

export function keyringFromEnv(env: NodeJS.ProcessEnv = process.env): Keyring | undefined {
  const file = env.CELLOS_CODEC_KEYS_FILE;
  const single = env.CELLOS_CODEC_KEY;
  if (file && single) {
    throw new ConfigError('the codec settings', [
      {
        field: 'CELLOS_CODEC_KEYS_FILE / CELLOS_CODEC_KEY',
        value: undefined,
        message: 'both are set; use the keys file (it can hold one key) or the single key, not both',
      },
    ]);
  }
  if (file) return loadKeysFile(file);
  if (single) {
    const id = env.CELLOS_CODEC_KEY_ID ?? 'default';
    const parsed = parseWith(
      z.strictObject({ CELLOS_CODEC_KEY_ID: keyIdSchema, CELLOS_CODEC_KEY: keyValueSchema }),
      { CELLOS_CODEC_KEY_ID: id, CELLOS_CODEC_KEY: single },
      'the codec settings',
    );
    return { currentKeyId: id, keys: new Map([[id, decodeKey(parsed.CELLOS_CODEC_KEY)!]]) };
  }
  return undefined;
}

export function loadKeysFile(path: string): Keyring {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new ConfigError(`CELLOS_CODEC_KEYS_FILE=${path}`, [
      { field: '(file)', value: undefined, message: `cannot be read (${(err as Error).message})` },
    ]);
  }
  let data: unknown;
  try {
    // YAML is a superset of JSON: one parser reads both.
    data = parseYaml(text);
  } catch (err) {
    throw new ConfigError(`CELLOS_CODEC_KEYS_FILE=${path}`, [
      { field: '(file)', value: undefined, message: `is neither JSON nor YAML (${(err as Error).message})` },
    ]);
  }
  const parsed = parseWith(keysFileSchema, data, `CELLOS_CODEC_KEYS_FILE=${path}`);
  return keyringFrom(parsed);
}

export function keyringFrom(file: z.infer<typeof keysFileSchema>): Keyring {
  return {
    currentKeyId: file.current,
    keys: new Map(Object.entries(file.keys).map(([id, text]) => [id, decodeKey(text)!])),
  };
}

function decodeKey(text: string): Buffer | undefined {
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(text.trim())) return undefined;
  const bytes = Buffer.from(text.trim(), 'base64');
  return bytes.length === KEY_BYTES ? bytes : undefined;
}
