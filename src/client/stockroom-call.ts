import { CliError } from './campaign-client';

// The stockroom call's flags, checked before connecting; apart from the stockroom client so that
// the CLI parses them without loading it (it is loaded only by the commands that call the lab).

/** How long a stockroom command waits for the lab before it gives up waiting (`--wait` changes it). */
export const STOCKROOM_WAIT_MS = 30_000;
/** Exit code of a stockroom command that did not complete within its wait. */
export const STOCKROOM_TIMEOUT_EXIT = 3;
/** What an idempotency key may look like: it becomes part of an update id and is recorded in the lab file. */
export const STOCKROOM_KEY_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._:-]{0,99}$/;

export interface StockroomCallOptions {
  /** Idempotency key: the same key is applied at most once. */
  key?: string;
  /** How long to wait for the lab, ms (default STOCKROOM_WAIT_MS). */
  waitMs?: number;
}

export function checkStockroomKey(key: string): string {
  if (!STOCKROOM_KEY_PATTERN.test(key))
    throw new CliError(
      `--key: "${key.slice(0, 120)}" is not allowed; use 1-100 letters, digits, ".", "_", ":" or "-", starting with a letter or digit`,
      2,
    );
  return key;
}
