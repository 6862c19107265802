import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
// @ts-expect-error -- a plain ES module script without type declarations
import { buildCli, ROOT } from '../../bin/build-cli.mjs';

interface Metafile {
  outputs: Record<string, { imports: { path: string; kind: string }[]; inputs: Record<string, unknown> }>;
}
const build = buildCli as (o: { dist: string }) => Promise<Metafile>;

/**
 * The prebuilt CLI (bin/build-cli.mjs): Node's own ES module loader must run it (bin/cellos.mjs
 * falls back to tsx, three times slower, when it cannot), `status` must not load what only other
 * commands need, and old hashed chunks must not pile up.
 */
// Inside the repository, so the packages left external resolve from node_modules.
const dist = join(ROOT as string, 'dist', `cli-test-${process.pid}`);
afterAll(() => rmSync(dist, { recursive: true, force: true }));

/** Every source file in the entry's static import closure (what a call loads before it runs a command). */
function staticInputs(meta: Metafile): string[] {
  const byName = new Map(Object.entries(meta.outputs).map(([path, o]) => [path.split('/').at(-1)!, o]));
  const seen = new Set<string>();
  const visit = (name: string) => {
    if (seen.has(name)) return;
    seen.add(name);
    for (const i of byName.get(name)?.imports ?? [])
      if (i.kind === 'import-statement' && byName.has(i.path.split('/').at(-1)!)) visit(i.path.split('/').at(-1)!);
  };
  visit('cli.mjs');
  return [...seen].flatMap((name) => Object.keys(byName.get(name)!.inputs));
}

describe('the prebuilt CLI', () => {
  it('runs under Node’s ES module loader, loads neither zod, YAML nor the stockroom for status, and removes old chunks', async () => {
    const meta = await build({ dist });
    const run = spawnSync(
      process.execPath,
      [
        '--input-type=module',
        '-e',
        `const m = await import(${JSON.stringify(pathToFileURL(join(dist, 'cli.mjs')).href)}); await m.main(['help']);`,
      ],
      { encoding: 'utf8' },
    );
    expect(run.stderr).toBe('');
    expect(run.stdout).toMatch(/^cellos — run autonomous dose-response campaigns/);

    const inputs = staticInputs(meta);
    expect(inputs).toContain('src/client/campaign-client.ts');
    expect(inputs.some((i) => i.includes('node_modules/@temporalio/client/'))).toBe(true); // bundled, not external
    for (const lazy of [
      'node_modules/zod/',
      'node_modules/yaml/',
      'src/client/stockroom-client.ts',
      'src/client/schedules.ts',
      'src/report/index.ts',
      'src/client/watch.ts',
    ])
      expect(inputs.filter((i) => i.includes(lazy))).toEqual([]);

    // A file of the build before this one stays (a running `cellos` may still load it); older ones go.
    const stamp = join(dist, 'built-from.json');
    writeFileSync(join(dist, 'chunk-PREVIOUS.mjs'), '');
    writeFileSync(join(dist, 'chunk-STALE.mjs'), '');
    const listed = JSON.parse(readFileSync(stamp, 'utf8')) as { files: string[] };
    writeFileSync(stamp, JSON.stringify({ ...listed, files: [...listed.files, 'chunk-PREVIOUS.mjs'] }));
    await build({ dist });
    expect(existsSync(join(dist, 'chunk-STALE.mjs'))).toBe(false);
    expect(existsSync(join(dist, 'chunk-PREVIOUS.mjs'))).toBe(true);
    await build({ dist });
    expect(existsSync(join(dist, 'chunk-PREVIOUS.mjs'))).toBe(false);
    expect(existsSync(join(dist, 'cli.mjs'))).toBe(true);
  }, 120_000);
});
