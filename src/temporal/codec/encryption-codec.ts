import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { METADATA_ENCODING_KEY, ValueError, type Payload, type PayloadCodec } from '@temporalio/common';
import proto from '@temporalio/proto';
import type { Keyring } from './keyring';

/**
 * AES-256-GCM payload encryption. Each encrypted payload is the whole original payload (metadata
 * and data, serialised as protobuf) under a fresh 96-bit IV, with the id of the key that wrote it
 * in `encryption-key-id` so older keys keep decrypting after a rotation. The key id is also the
 * additional authenticated data, so a payload relabelled with another key id fails to decrypt.
 *
 * Runs in the client and the workers (Node's crypto), never inside the workflow sandbox: the
 * SDK applies codecs to payloads on their way to and from the server.
 */
export const ENCRYPTED_ENCODING = 'binary/encrypted';
export const KEY_ID_METADATA = 'encryption-key-id';

const IV_BYTES = 12;
const TAG_BYTES = 16;
const Payload = proto.temporal.api.common.v1.Payload;

export class EncryptionCodec implements PayloadCodec {
  constructor(private readonly keyring: Keyring) {}

  async encode(payloads: Payload[]): Promise<Payload[]> {
    const keyId = this.keyring.currentKeyId;
    const key = this.keyring.keys.get(keyId)!;
    return payloads.map((payload) => {
      const iv = randomBytes(IV_BYTES);
      const cipher = createCipheriv('aes-256-gcm', key, iv);
      cipher.setAAD(Buffer.from(keyId));
      const plain = Payload.encode(payload).finish();
      const sealed = Buffer.concat([iv, cipher.update(plain), cipher.final(), cipher.getAuthTag()]);
      return {
        metadata: {
          [METADATA_ENCODING_KEY]: Buffer.from(ENCRYPTED_ENCODING),
          [KEY_ID_METADATA]: Buffer.from(keyId),
        },
        data: sealed,
      };
    });
  }

  async decode(payloads: Payload[]): Promise<Payload[]> {
    return payloads.map((payload) => {
      // Payloads written before encryption was switched on pass through unchanged.
      if (text(payload.metadata?.[METADATA_ENCODING_KEY]) !== ENCRYPTED_ENCODING) return payload;
      const keyId = text(payload.metadata?.[KEY_ID_METADATA]);
      if (!keyId) throw new ValueError(`an encrypted payload has no ${KEY_ID_METADATA} metadata`);
      const key = this.keyring.keys.get(keyId);
      if (!key) {
        throw new ValueError(
          `a payload is encrypted with key "${keyId}", which this process does not have (it has: ${[...this.keyring.keys.keys()].join(', ')}); keep old keys in CELLOS_CODEC_KEYS_FILE after a rotation`,
        );
      }
      const data = Buffer.from(payload.data ?? new Uint8Array());
      if (data.length < IV_BYTES + TAG_BYTES) throw new ValueError('an encrypted payload is too short to be valid');
      const decipher = createDecipheriv('aes-256-gcm', key, data.subarray(0, IV_BYTES));
      decipher.setAAD(Buffer.from(keyId));
      decipher.setAuthTag(data.subarray(data.length - TAG_BYTES));
      let plain: Buffer;
      try {
        plain = Buffer.concat([decipher.update(data.subarray(IV_BYTES, data.length - TAG_BYTES)), decipher.final()]);
      } catch {
        throw new ValueError(`a payload encrypted with key "${keyId}" failed authentication (wrong key or tampered)`);
      }
      return Payload.decode(plain) as Payload;
    });
  }
}

function text(bytes: Uint8Array | null | undefined): string | undefined {
  return bytes ? Buffer.from(bytes).toString('utf8') : undefined;
}
