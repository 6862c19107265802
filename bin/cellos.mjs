#!/usr/bin/env node
// The `cellos` command: runs the TypeScript CLI through tsx, so no build step is needed.
import { register } from 'tsx/esm/api';

register();
const { main } = await import('../src/client/cli.ts');
await main();
