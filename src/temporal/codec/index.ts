import { fileURLToPath } from 'node:url';
import type { DataConverter } from '@temporalio/common';
import { EncryptionCodec } from './encryption-codec';
import { keyringFromEnv, type Keyring } from './keyring';

/**
 * The data converter every Temporal client and worker of cell_OS uses: with keys configured
 * (see keyring.ts) payloads are AES-256-GCM encrypted and failure messages are encoded so the codec
 * covers them too; without keys it is Temporal's default and this returns no options at all.
 */
export const FAILURE_CONVERTER_PATH = fileURLToPath(new URL('./failure-converter.cjs', import.meta.url));

export function encryptedDataConverter(keyring: Keyring): DataConverter {
  return { payloadCodecs: [new EncryptionCodec(keyring)], failureConverterPath: FAILURE_CONVERTER_PATH };
}

/** `{ dataConverter }` for `new Client(...)` and `Worker.create(...)`, or `{}` when encryption is off. */
export function dataConverterOptions(env: NodeJS.ProcessEnv = process.env): { dataConverter?: DataConverter } {
  const keyring = keyringFromEnv(env);
  return keyring ? { dataConverter: encryptedDataConverter(keyring) } : {};
}

export function encryptionEnabled(env: NodeJS.ProcessEnv = process.env): boolean {
  return Boolean(env.CELLOS_CODEC_KEYS_FILE || env.CELLOS_CODEC_KEY);
}

export { EncryptionCodec, ENCRYPTED_ENCODING, KEY_ID_METADATA } from './encryption-codec';
export { keyringFromEnv, loadKeysFile, keyringFrom, type Keyring } from './keyring';
