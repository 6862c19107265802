import { execFileSync, spawnSync } from 'node:child_process';
import {
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  renameSync,
  rmSync,
  symlinkSync,
  lstatSync,
  unlinkSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { clusterPaths, TEMPORAL_SERVER_VERSION, UI_SERVER_VERSION, type ClusterSettings } from './settings';

/**
 * The Temporal server, its SQL schema tool and the Web UI server, built from the Go module proxy
 * at pinned versions. A cold build takes minutes (about 500 CPU-seconds for the server), so each
 * version is built once per user into `<cache>/temporal-<version>/` and `<cache>/ui-server-<version>/`
 * (outside the repository, so every clone reuses it) and linked into `.tools/temporal-cluster/`.
 * The Go module and build caches (GOMODCACHE, GOCACHE) are Go's own and persist as well.
 */
const SERVER_MODULE = 'go.temporal.io/server';
const UI_MODULE = 'github.com/temporalio/ui-server/v2';

export function serverCacheDir(s: ClusterSettings): string {
  return join(s.cacheDir, `temporal-${TEMPORAL_SERVER_VERSION}`);
}
export function uiCacheDir(s: ClusterSettings): string {
  return join(s.cacheDir, `ui-server-${UI_SERVER_VERSION}`);
}

function goEnv(name: string): string {
  return execFileSync('go', ['env', name], { encoding: 'utf8' }).trim();
}

/** `go install pkg@version …` into an empty folder; returns the folder. */
function goInstall(packages: string[], log: (line: string) => void): string {
  const bin = mkdtempSync(join(tmpdir(), 'cellos-gobin-'));
  log(`go install ${packages.join(' ')} (a cold build takes several minutes) ...`);
  const t0 = Date.now();
  const result = spawnSync('nice', ['-n', '10', 'go', 'install', ...packages], {
    // Outside any module, so go.mod files around the repository play no part.
    cwd: bin,
    env: { ...process.env, GOBIN: bin, GOFLAGS: '-mod=mod' },
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  if (result.status !== 0) {
    rmSync(bin, { recursive: true, force: true });
    throw new Error(
      `go install failed (exit ${result.status ?? result.signal}); a newer server may need a newer Go: try GOTOOLCHAIN=go1.26.10`,
    );
  }
  log(`built in ${((Date.now() - t0) / 1000).toFixed(0)} s`);
  return bin;
}

function requireGo(): void {
  if (spawnSync('go', ['version']).status !== 0)
    throw new Error('Go is needed once to build the Temporal server (https://go.dev/dl/, or apt-get install golang)');
}

/** Builds what is missing from the cache, then links the cache into .tools/temporal-cluster. */
export function ensureBinaries(
  s: ClusterSettings,
  options: { ui?: boolean } = {},
  log: (line: string) => void = console.log,
): void {
  const serverDir = serverCacheDir(s);
  const uiDir = uiCacheDir(s);
  if (!existsSync(join(serverDir, 'temporal-server')) || !existsSync(join(serverDir, 'schema'))) {
    requireGo();
    const bin = goInstall(
      [
        `${SERVER_MODULE}/cmd/server@v${TEMPORAL_SERVER_VERSION}`,
        `${SERVER_MODULE}/cmd/tools/sql@v${TEMPORAL_SERVER_VERSION}`,
      ],
      log,
    );
    // The schemas ship inside the module; keep the PostgreSQL ones with the binaries.
    const moduleDir = join(goEnv('GOMODCACHE'), `${SERVER_MODULE}@v${TEMPORAL_SERVER_VERSION}`);
    const staging = `${serverDir}.partial-${process.pid}`;
    mkdirSync(staging, { recursive: true });
    renameSync(join(bin, 'server'), join(staging, 'temporal-server'));
    renameSync(join(bin, 'sql'), join(staging, 'temporal-sql-tool'));
    cpSync(join(moduleDir, 'schema/postgresql/v12'), join(staging, 'schema/postgresql/v12'), { recursive: true });
    // The module cache is read-only; the copy need not be (so a cache can be deleted by its owner).
    execFileSync('chmod', ['-R', 'u+w', staging]);
    rmSync(bin, { recursive: true, force: true });
    publish(staging, serverDir, ['temporal-server', 'temporal-sql-tool', 'schema']);
  }
  const wantUi = options.ui !== false;
  if (wantUi && (!existsSync(join(uiDir, 'temporal-ui-server')) || !existsSync(join(uiDir, 'config/docker.yaml')))) {
    requireGo();
    const bin = goInstall([`${UI_MODULE}/cmd/server@v${UI_SERVER_VERSION}`], log);
    const moduleDir = join(goEnv('GOMODCACHE'), `github.com/temporalio/ui-server/v2@v${UI_SERVER_VERSION}`);
    const staging = `${uiDir}.partial-${process.pid}`;
    mkdirSync(join(staging, 'config'), { recursive: true });
    renameSync(join(bin, 'server'), join(staging, 'temporal-ui-server'));
    // The UI image's own config template (env vars TEMPORAL_ADDRESS, TEMPORAL_TLS_*, TEMPORAL_CODEC_*):
    // the scripted cluster configures the UI exactly as docker-compose.yml does.
    cpSync(join(moduleDir, 'config/docker.yaml'), join(staging, 'config/docker.yaml'));
    execFileSync('chmod', ['-R', 'u+w', staging]);
    rmSync(bin, { recursive: true, force: true });
    publish(staging, uiDir, ['temporal-ui-server', 'config/docker.yaml']);
  }
  const paths = clusterPaths(s);
  mkdirSync(s.toolsDir, { recursive: true });
  link(join(serverDir, 'temporal-server'), paths.serverBin);
  link(join(serverDir, 'temporal-sql-tool'), paths.sqlToolBin);
  link(join(serverDir, 'schema'), join(s.toolsDir, 'schema'));
  if (wantUi) {
    link(join(uiDir, 'temporal-ui-server'), paths.uiBin);
    link(join(uiDir, 'config'), paths.uiConfigDir);
  }
}

/**
 * Moves a finished build into the cache in one rename. Two clones building at once each stage
 * their own copy; the first to finish wins and the other discards its copy (they are identical).
 */
function publish(staging: string, target: string, required: string[]): void {
  try {
    renameSync(staging, target);
  } catch {
    // The target exists: an incomplete one (an interrupted older layout) is replaced, a complete one kept.
    if (!required.every((f) => existsSync(join(target, f)))) {
      rmSync(target, { recursive: true, force: true });
      renameSync(staging, target);
    } else rmSync(staging, { recursive: true, force: true });
  }
}

function link(target: string, path: string): void {
  try {
    if (lstatSync(path)) unlinkSync(path);
  } catch {
    // nothing there yet
  }
  symlinkSync(target, path);
}
