#!/usr/bin/env node
// The `cellos` command: runs the TypeScript CLI through tsx, so no build step is needed.
import { register } from 'tsx/esm/api';

register();
// Output piped into `head` (a closed pipe) ends the command quietly, not with a stack trace.
for (const stream of [process.stdout, process.stderr])
  stream.on('error', (err) => {
    if (err.code === 'EPIPE') process.exit(0);
    throw err;
  });
const { main } = await import('../src/client/cli.ts');
await main();
