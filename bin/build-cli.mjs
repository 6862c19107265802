// Builds the `cellos` CLI into dist/cli (git-ignored) with esbuild, so a call does not compile
// TypeScript: bin/cellos.mjs runs the build when it is fresh and rebuilds it when a source file
// is newer. Packages stay external (resolved from node_modules at run time); the report module
// is a separate chunk, loaded only by `cellos report`. Usable alone: `npm run build:cli`.
import { copyFileSync, existsSync, mkdirSync, readdirSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = fileURLToPath(new URL('..', import.meta.url));
export const DIST = join(ROOT, 'dist', 'cli');
export const ENTRY = join(DIST, 'cli.mjs');
const STAMP = join(DIST, 'built-from.json');

/** Newest modification time of anything the CLI is built from. */
export function newestSourceMs() {
  let newest = 0;
  const walk = (dir) => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) walk(path);
      else newest = Math.max(newest, statSync(path).mtimeMs);
    }
  };
  walk(join(ROOT, 'src'));
  for (const f of ['package-lock.json', 'bin/build-cli.mjs'])
    newest = Math.max(newest, statSync(join(ROOT, f)).mtimeMs);
  return newest;
}

export function isFresh() {
  return existsSync(ENTRY) && existsSync(STAMP) && statSync(STAMP).mtimeMs >= newestSourceMs();
}

export async function buildCli() {
  const started = newestSourceMs();
  const { build } = await import('esbuild'); // tsx's own compiler, always installed with it
  // Build beside the old one and swap, so a concurrent `cellos` never runs a half-written build.
  const staging = `${DIST}.tmp-${process.pid}`;
  rmSync(staging, { recursive: true, force: true });
  await build({
    entryPoints: { cli: join(ROOT, 'src/client/cli.ts') },
    outdir: staging,
    outExtension: { '.js': '.mjs' },
    bundle: true,
    splitting: true,
    format: 'esm',
    platform: 'node',
    target: 'node20',
    packages: 'external',
    // A directory import that tsx resolves but Node's ESM loader does not: name its file.
    alias: {
      '@temporalio/interceptors-opentelemetry/lib/client': '@temporalio/interceptors-opentelemetry/lib/client/index.js',
    },
    sourcemap: 'linked',
    logLevel: 'error',
  });
  // The codec's failure converter is loaded by path (next to the module that names it).
  copyFileSync(join(ROOT, 'src/temporal/codec/failure-converter.cjs'), join(staging, 'failure-converter.cjs'));
  // Move the files in one by one, each rename atomic, chunks before the entry and the stamp last:
  // a `cellos` running meanwhile sees an old or a new file, never none. Chunk names carry a
  // content hash, so an old entry still finds its old chunks (they are left in place).
  mkdirSync(DIST, { recursive: true });
  const files = readdirSync(staging).sort((a, b) => Number(a === 'cli.mjs') - Number(b === 'cli.mjs'));
  for (const f of files) renameSync(join(staging, f), join(DIST, f));
  rmSync(staging, { recursive: true, force: true });
  writeFileSync(`${STAMP}.tmp-${process.pid}`, JSON.stringify({ sourcesNewestMs: started }));
  renameSync(`${STAMP}.tmp-${process.pid}`, STAMP);
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  await buildCli();
  console.log(`built the cellos CLI into ${DIST}`);
}
