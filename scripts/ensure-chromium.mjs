#!/usr/bin/env node
/**
 * Make sure a headless Chromium is on the machine and print its path. Browser tests call
 * `ensureChromium()` in their setup; run `node scripts/ensure-chromium.mjs` by hand to install it
 * ahead of time.
 *
 * The browser comes from Debian's `chromium` package rather than from Playwright's own download:
 * playwright-core drives any Chromium through `executablePath`, and only the package registries
 * are reachable here. Idempotent: when the browser is there nothing is installed. Set
 * CELLOS_CHROMIUM to use another binary.
 */
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { pathToFileURL } from 'node:url';

export const DEFAULT_CHROMIUM = '/usr/bin/chromium';

function run(command, args) {
  execFileSync(command, args, {
    stdio: ['ignore', 'inherit', 'inherit'],
    env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
  });
}

function aptInstall() {
  // Wait for another apt run (a parallel test setup, say) instead of failing on its lock.
  const lock = ['-o', 'DPkg::Lock::Timeout=600'];
  const install = ['-y', '--no-install-recommends', ...lock, 'install', 'chromium'];
  try {
    run('apt-get', install);
  } catch {
    // The package lists may be missing or stale on a fresh machine: refresh them once and retry.
    run('apt-get', [...lock, 'update']);
    run('apt-get', install);
  }
}

/** The path of a Chromium binary, installed with apt-get when missing. Throws when it cannot be had. */
export function ensureChromium({ log = (m) => console.error(m) } = {}) {
  const wanted = process.env.CELLOS_CHROMIUM || DEFAULT_CHROMIUM;
  if (existsSync(wanted)) return wanted;
  if (process.env.CELLOS_CHROMIUM)
    throw new Error(`CELLOS_CHROMIUM is ${wanted}, which does not exist; unset it to use ${DEFAULT_CHROMIUM}`);
  if (process.platform !== 'linux' || !existsSync('/usr/bin/apt-get'))
    throw new Error(`no Chromium at ${DEFAULT_CHROMIUM} and no apt-get to install it; set CELLOS_CHROMIUM to a binary`);
  if (typeof process.getuid === 'function' && process.getuid() !== 0)
    throw new Error(`no Chromium at ${DEFAULT_CHROMIUM}; install it with: sudo apt-get install chromium`);
  log(`installing Debian's chromium package (once per machine) ...`);
  aptInstall();
  if (!existsSync(DEFAULT_CHROMIUM)) throw new Error(`apt-get installed chromium but ${DEFAULT_CHROMIUM} is missing`);
  return DEFAULT_CHROMIUM;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  try {
    console.log(ensureChromium());
  } catch (err) {
    console.error(`error: ${err.message}`);
    process.exitCode = 1;
  }
}
