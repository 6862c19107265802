import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createServer } from 'node:net';
import type { TestProject } from 'vitest/node';
import { startDevServer, type DevServer } from '../src/devserver/dev-server';

/**
 * One real Temporal dev server (SQLite file, headless) for the whole run: on 2 cores, one server
 * per file would spend the suite starting servers. Continue-as-new is suggested after 300 events
 * (instead of thousands) so multi-iteration campaigns in the tests really hand over their state.
 */
export const SUGGEST_CONTINUE_AS_NEW_AFTER_EVENTS = 300;

declare module 'vitest' {
  export interface ProvidedContext {
    temporalAddress: string;
    suggestContinueAsNewAfterEvents: number;
  }
}

let server: DevServer | undefined;
let dir: string | undefined;

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  dir = mkdtempSync(join(tmpdir(), 'cellos-test-temporal-'));
  const port = await freePort();
  server = await startDevServer({
    port,
    dbFile: join(dir, 'temporal.db'),
    logFile: join(dir, 'temporal.log'),
    dynamicConfig: { 'limit.historyCount.suggestContinueAsNew': SUGGEST_CONTINUE_AS_NEW_AFTER_EVENTS },
  });
  project.provide('temporalAddress', server.address);
  project.provide('suggestContinueAsNewAfterEvents', SUGGEST_CONTINUE_AS_NEW_AFTER_EVENTS);
  return async () => {
    await server?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  };
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const address = srv.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      srv.close(() => resolve(port));
    });
  });
}
