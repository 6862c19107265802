import { existsSync, statSync } from 'node:fs';
import Database from 'better-sqlite3';
import { ApplicationFailure } from '@temporalio/common';
import type { ActivityInboundCallsInterceptor, ActivityInterceptorsFactory } from '@temporalio/worker';
import { LAB_FILE_UNHEALTHY } from '../domain/failures';

/**
 * The lab worker's check of its own SQLite file. At start (before anything else opens the file)
 * and whenever a lab activity fails with an I/O-like SQLite error, the file gets PRAGMA
 * quick_check (`CELLOS_LAB_INTEGRITY=full` runs the slower integrity_check at start). A damaged
 * file makes the worker stop taking tasks and say which file and what is wrong; the activity that
 * found it fails with the retryable LAB_FILE_UNHEALTHY type, so Temporal retries it on a worker
 * whose file is healthy instead of this one burning the step's attempts on "disk I/O error".
 */

export type LabFileHealth = { ok: true } | { ok: false; problem: string };

/** SQLite result codes that can mean the file itself is bad (rather than a busy lock or a bad query). */
const FILE_ERROR_CODES = /^SQLITE_(IOERR|CORRUPT|NOTADB|CANTOPEN|FULL|READONLY)/;

export function isFileError(err: unknown): boolean {
  let e: unknown = err;
  for (let depth = 0; e instanceof Error && depth < 5; depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string' && FILE_ERROR_CODES.test(code)) return true;
    if (/disk I\/O error|database disk image is malformed|file is not a database/i.test(e.message)) return true;
    e = e.cause;
  }
  return false;
}

/** Checks the lab file; never throws. A file that does not exist yet is healthy (it will be created). */
export function checkLabFile(path: string, mode: 'quick' | 'full' = 'quick'): LabFileHealth {
  if (!existsSync(path)) return { ok: true };
  try {
    if (!statSync(path).isFile()) return { ok: false, problem: 'it is not a regular file' };
  } catch (err) {
    return { ok: false, problem: `cannot stat it (${(err as NodeJS.ErrnoException).code ?? 'error'})` };
  }
  let db: Database.Database | undefined;
  try {
    db = new Database(path, { readonly: true, fileMustExist: true });
    db.pragma('busy_timeout = 5000');
    const rows = db.pragma(mode === 'full' ? 'integrity_check(20)' : 'quick_check(20)', { simple: false }) as Record<
      string,
      string
    >[];
    const messages = rows.map((r) => Object.values(r)[0]).filter((m) => m !== 'ok');
    return messages.length === 0 ? { ok: true } : { ok: false, problem: `${mode}_check: ${messages.join('; ')}` };
  } catch (err) {
    const code = (err as { code?: string }).code;
    return { ok: false, problem: `${(err as Error).message}${code ? ` (${code})` : ''}` };
  } finally {
    try {
      db?.close();
    } catch {
      // closing a broken handle must not hide the problem found
    }
  }
}

export function describeUnhealthy(path: string, problem: string): string {
  return `lab file ${path} is damaged or unreadable: ${problem}. This worker stopped taking tasks; restore the file from a backup (or move it aside to start an empty lab) and restart the worker`;
}

export interface LabFileGuardOptions {
  path: string;
  /** Called once, with the message, when the file is found unhealthy: stop taking tasks. */
  onUnhealthy: (message: string) => void;
  check?: (path: string) => LabFileHealth;
}

/**
 * Activity interceptor for the lab workers: an activity failing with an I/O-like SQLite error
 * triggers a check of the file; if it is damaged the failure becomes a retryable
 * LAB_FILE_UNHEALTHY ApplicationFailure naming the file, and `onUnhealthy` stops the worker.
 * Other failures pass through untouched.
 */
export function labFileInterceptor(options: LabFileGuardOptions): ActivityInterceptorsFactory {
  const check = options.check ?? ((path: string) => checkLabFile(path));
  let reported = false;
  return () => ({
    inbound: {
      async execute(input, next) {
        try {
          return await next(input);
        } catch (err) {
          if (!isFileError(err)) throw err;
          const health = check(options.path);
          if (health.ok) throw err;
          const message = describeUnhealthy(options.path, health.problem);
          if (!reported) {
            reported = true;
            options.onUnhealthy(message);
          }
          throw ApplicationFailure.create({
            message,
            type: LAB_FILE_UNHEALTHY,
            nonRetryable: false,
            cause: err instanceof Error ? err : undefined,
          });
        }
      },
    } satisfies ActivityInboundCallsInterceptor,
  });
}
