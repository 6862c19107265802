import { randomBytes } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** Fresh random keys and a keys file for codec tests. */
export function newKey(): string {
  return randomBytes(32).toString('base64');
}

export function writeKeysFile(
  current: string,
  keys: Record<string, string>,
  dir = mkdtempSync(join(tmpdir(), 'cellos-keys-')),
): string {
  const path = join(dir, 'codec-keys.yaml');
  writeFileSync(
    path,
    `current: ${current}\nkeys:\n${Object.entries(keys)
      .map(([id, k]) => `  ${id}: ${k}`)
      .join('\n')}\n`,
  );
  return path;
}
