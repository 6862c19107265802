// Builds the `cellos` CLI into dist/cli (git-ignored) with esbuild, so a call does not compile
// TypeScript: bin/cellos.mjs runs the build when it is fresh and rebuilds it when a source file
// is newer. Most packages are bundled (see EXTERNAL_PACKAGES); what only some commands need (the
// stockroom client, config parsing, the report) sits in chunks loaded by those commands alone.
// Usable alone: `npm run build:cli`.
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  readFileSync,
  readdirSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = fileURLToPath(new URL('..', import.meta.url));
export const DIST = join(ROOT, 'dist', 'cli');
export const ENTRY = join(DIST, 'cli.mjs');
const STAMP = join(DIST, 'built-from.json');

/** Left out of the bundle: loaded at run time from node_modules, and only by the commands that need them. */
const EXTERNAL_PACKAGES = [
  'vega',
  'vega-*',
  '@opentelemetry/*',
  '@temporalio/interceptors-opentelemetry',
  '@temporalio/interceptors-opentelemetry/*',
  '@temporalio/worker',
  '@temporalio/core-bridge',
  'better-sqlite3',
  'playwright-core',
];

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

/**
 * Builds into `dist` (default dist/cli) and returns esbuild's metafile. The build before this one
 * is kept beside it (a `cellos` started from it may still load its chunks); older files go.
 */
export async function buildCli({ dist = DIST } = {}) {
  const DIST = dist;
  const STAMP = join(DIST, 'built-from.json');
  const started = newestSourceMs();
  const { build } = await import('esbuild'); // tsx's own compiler, always installed with it
  // Build beside the old one and swap, so a concurrent `cellos` never runs a half-written build.
  const staging = `${DIST}.tmp-${process.pid}`;
  rmSync(staging, { recursive: true, force: true });
  const { metafile } = await build({
    metafile: true,
    entryPoints: { cli: join(ROOT, 'src/client/cli.ts') },
    outdir: staging,
    outExtension: { '.js': '.mjs' },
    bundle: true,
    splitting: true,
    format: 'esm',
    platform: 'node',
    target: 'node20',
    // Temporal's client, its protobufs, gRPC, zod and YAML go into the bundle: Node then loads a
    // few large files instead of some 600 CommonJS modules, each resolved, read and scanned for
    // its exports (about 0.15 s of every call). Packages only some commands load stay external:
    // the report's vega, OpenTelemetry tracing, and anything native.
    external: EXTERNAL_PACKAGES,
    // Bundled CommonJS calls require() for Node's built-ins; an ES module has none of its own.
    banner: {
      js: "import { createRequire as __cellosRequire } from 'node:module'; const require = __cellosRequire(import.meta.url);",
    },
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
  // content hash, so an old entry still finds its old chunks: the previous build's files stay
  // (the stamp lists them), anything older is removed so hashed chunks do not pile up.
  mkdirSync(DIST, { recursive: true });
  const previous = readStamp(STAMP).files ?? [];
  const files = readdirSync(staging).sort((a, b) => Number(a === 'cli.mjs') - Number(b === 'cli.mjs'));
  for (const f of files) renameSync(join(staging, f), join(DIST, f));
  rmSync(staging, { recursive: true, force: true });
  writeFileSync(`${STAMP}.tmp-${process.pid}`, JSON.stringify({ sourcesNewestMs: started, files }));
  renameSync(`${STAMP}.tmp-${process.pid}`, STAMP);
  const keep = new Set([...files, ...previous, 'built-from.json']);
  for (const f of readdirSync(DIST))
    if (!keep.has(f) && !f.startsWith('built-from.json.tmp-')) rmSync(join(DIST, f), { force: true });
  return metafile;
}

function readStamp(path) {
  try {
    return JSON.parse(readFileSync(path, 'utf8'));
  } catch {
    return {};
  }
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  await buildCli();
  console.log(`built the cellos CLI into ${DIST}`);
}
