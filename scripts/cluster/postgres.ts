import { execFileSync, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chownSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { clusterPaths, type ClusterSettings } from './settings';

/**
 * The cluster's own PostgreSQL (Debian's packages, no system service): a data folder under the
 * cluster's state folder, its own port, listening on 127.0.0.1 only, password authentication
 * over TCP. PostgreSQL refuses to run as root, so as root its files belong to the `postgres` user
 * and its tools run as that user.
 */
function asDbUser(): string[] {
  return process.getuid?.() === 0 ? ['runuser', '-u', 'postgres', '--'] : [];
}

function run(s: ClusterSettings, tool: string, args: string[], options: { allowFail?: boolean } = {}) {
  const [cmd, ...prefix] = [...asDbUser(), join(s.postgres.bin, tool)];
  const result = spawnSync(cmd!, [...prefix, ...args], { encoding: 'utf8' });
  if (result.status !== 0 && !options.allowFail)
    throw new Error(`${tool} ${args.join(' ')} failed: ${(result.stderr || result.stdout || '').trim()}`);
  return result;
}

/** The password Temporal uses: POSTGRES_PASSWORD, else one generated at the first start and kept (0600). */
export function postgresPassword(s: ClusterSettings): string {
  const { pgPasswordFile } = clusterPaths(s);
  if (existsSync(pgPasswordFile)) return readFileSync(pgPasswordFile, 'utf8').trim();
  const password = process.env.POSTGRES_PASSWORD || randomBytes(18).toString('base64url');
  mkdirSync(s.stateDir, { recursive: true });
  writeFileSync(pgPasswordFile, `${password}\n`, { mode: 0o600 });
  return password;
}

function ownByDbUser(path: string): void {
  if (process.getuid?.() !== 0) return;
  const uid = Number(execFileSync('id', ['-u', 'postgres'], { encoding: 'utf8' }).trim());
  const gid = Number(execFileSync('id', ['-g', 'postgres'], { encoding: 'utf8' }).trim());
  chownSync(path, uid, gid);
}

/** initdb on first use; returns true when it made a new database cluster. */
export function initPostgres(s: ClusterSettings): boolean {
  const paths = clusterPaths(s);
  if (!existsSync(join(s.postgres.bin, 'initdb')))
    throw new Error(
      `no PostgreSQL in ${s.postgres.bin} (apt-get install postgresql, or set CELLOS_PG_BIN to its bin folder)`,
    );
  for (const dir of [join(s.stateDir, 'postgres'), paths.pgRun]) {
    mkdirSync(dir, { recursive: true });
    ownByDbUser(dir);
  }
  if (existsSync(join(paths.pgData, 'PG_VERSION'))) return false;
  mkdirSync(paths.pgData, { recursive: true, mode: 0o700 });
  ownByDbUser(paths.pgData);
  // The password file is read by initdb as the database user: a private copy it can read.
  const pwfile = join(s.stateDir, 'postgres', '.initdb-password');
  writeFileSync(pwfile, `${postgresPassword(s)}\n`, { mode: 0o600 });
  ownByDbUser(pwfile);
  try {
    run(s, 'initdb', [
      '-D',
      paths.pgData,
      '-U',
      s.postgres.user,
      `--pwfile=${pwfile}`,
      '--auth-local=peer',
      '--auth-host=scram-sha-256',
      '--encoding=UTF8',
      '--no-instructions',
    ]);
  } finally {
    execFileSync('rm', ['-f', pwfile]);
  }
  return true;
}

export function postgresRunning(s: ClusterSettings): boolean {
  const { pgData } = clusterPaths(s);
  if (!existsSync(join(pgData, 'PG_VERSION'))) return false;
  return run(s, 'pg_ctl', ['status', '-D', pgData], { allowFail: true }).status === 0;
}

export function startPostgres(s: ClusterSettings): void {
  const paths = clusterPaths(s);
  if (!existsSync(paths.pgLog)) {
    writeFileSync(paths.pgLog, '');
    ownByDbUser(paths.pgLog);
  }
  const options = [
    `-p ${s.postgres.port}`,
    "-c listen_addresses='127.0.0.1'",
    `-c unix_socket_directories='${paths.pgRun}'`,
    // Four Temporal services, each with a pool of up to 20 + 10 connections.
    '-c max_connections=200',
  ].join(' ');
  run(s, 'pg_ctl', ['start', '-D', paths.pgData, '-l', paths.pgLog, '-w', '-t', '60', '-o', options]);
}

/** Fast shutdown: open connections are closed, nothing is lost (the tests' "PostgreSQL outage"). */
export function stopPostgres(s: ClusterSettings): void {
  const { pgData } = clusterPaths(s);
  if (postgresRunning(s)) run(s, 'pg_ctl', ['stop', '-D', pgData, '-m', 'fast', '-w', '-t', '60']);
}

export function postgresPid(s: ClusterSettings): number | undefined {
  const file = join(clusterPaths(s).pgData, 'postmaster.pid');
  if (!existsSync(file)) return undefined;
  const pid = Number(readFileSync(file, 'utf8').split('\n')[0]);
  return Number.isInteger(pid) && pid > 0 ? pid : undefined;
}
