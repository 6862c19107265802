import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ensureOpentronsVenv, findPython312 } from '../../../src/instruments/opentrons/python-env';

/**
 * Venv creation without pip: a stand-in "python3.12" whose `-m venv DIR` makes a DIR/bin/python
 * that, for `-m pip install`, sleeps a little and counts itself. Two callers racing must install once.
 */

const folder = mkdtempSync(join(tmpdir(), 'cellos-venv-test-'));
afterAll(() => rmSync(folder, { recursive: true, force: true }));

function fakePython(): string {
  const installs = join(folder, 'installs.log');
  const venvPython = `#!/bin/sh\nsleep 0.5\necho "$@" >> ${installs}\n`;
  const base = join(folder, 'python3.12');
  writeFileSync(
    base,
    `#!/bin/sh\n[ "$1" = "-m" ] && [ "$2" = "venv" ] || exit 2\nmkdir -p "$3/bin"\n` +
      `cat > "$3/bin/python" <<'EOF'\n${venvPython}EOF\nchmod +x "$3/bin/python"\n`,
  );
  chmodSync(base, 0o755);
  return base;
}

describe('opentrons venv', () => {
  it('is created once when two callers race, behind a lock file, and reused after', async () => {
    const env = { ...process.env, CELLOS_PYTHON312: fakePython() };
    const dir = join(folder, 'venv');
    const [a, b] = await Promise.all([ensureOpentronsVenv({ dir, env }), ensureOpentronsVenv({ dir, env })]);
    expect(a.python).toBe(join(dir, 'bin', 'python'));
    expect(b.python).toBe(a.python);
    const installs = readFileSync(join(folder, 'installs.log'), 'utf8').trim().split('\n');
    expect(installs).toEqual(['-m pip install --disable-pip-version-check --quiet opentrons==10.1.0']);
    expect(existsSync(`${dir}.lock`)).toBe(false);
    expect((await ensureOpentronsVenv({ dir, env })).createdInSeconds).toBe(0);
  });

  it('takes over a lock left by a process that died', async () => {
    const env = { ...process.env, CELLOS_PYTHON312: fakePython() };
    const dir = join(folder, 'venv-stale');
    writeFileSync(`${dir}.lock`, '999999999');
    const venv = await ensureOpentronsVenv({ dir, env });
    expect(venv.createdInSeconds).toBeGreaterThan(0);
  });

  it('finds Python 3.12 from CELLOS_PYTHON312 first, and says what to do when there is none', () => {
    const base = fakePython();
    expect(findPython312({ CELLOS_PYTHON312: base })).toBe(base);
    expect(() => findPython312({ PATH: '', PYENV_ROOT: join(folder, 'nowhere') })).toThrow(/set CELLOS_PYTHON312/);
  });
});
