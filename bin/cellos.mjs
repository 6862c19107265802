#!/usr/bin/env node
// The `cellos` command. It runs the CLI prebuilt into dist/cli (bin/build-cli.mjs), rebuilding it
// first when a source file is newer, so a call does not compile TypeScript; if building fails
// (or CELLOS_CLI_TSX=1) it runs the TypeScript sources through tsx instead.
import { buildCli, ENTRY, isFresh } from './build-cli.mjs';
import { pathToFileURL } from 'node:url';

// Output piped into `head` (a closed pipe) ends the command quietly, not with a stack trace.
for (const stream of [process.stdout, process.stderr])
  stream.on('error', (err) => {
    if (err.code === 'EPIPE') process.exit(0);
    throw err;
  });

async function loadCli() {
  if (process.env.CELLOS_CLI_TSX !== '1') {
    try {
      if (!isFresh()) await buildCli();
      return await import(pathToFileURL(ENTRY).href);
    } catch (err) {
      if (process.env.CELLOS_CLI_DEBUG) console.error(`cellos: prebuilt CLI unavailable (${err.message}); using tsx`);
    }
  }
  const { register } = await import('tsx/esm/api');
  register();
  return import('../src/client/cli.ts');
}

const { main } = await loadCli();
await main();
