import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { webUiBase } from '../../src/client/ui-url';
import { localPorts, recordedUiUrl } from '../../src/devserver/local-server';
import { parseCommand, parseInterval } from '../../src/client/cli';

describe('ports of the local dev server', () => {
  it('come from flags, then the environment, then 7233 / 8233', () => {
    expect(localPorts([], {})).toEqual({ port: 7233, uiPort: 8233 });
    expect(localPorts([], { CELLOS_TEMPORAL_PORT: '7300', CELLOS_UI_PORT: '8300' })).toEqual({
      port: 7300,
      uiPort: 8300,
    });
    expect(localPorts(['--port', '7400', '--ui-port', '8400'], { CELLOS_TEMPORAL_PORT: '7300' })).toEqual({
      port: 7400,
      uiPort: 8400,
    });
    expect(() => localPorts(['--port', 'abc'], {})).toThrow(/--port.*"abc" is not a port/);
    expect(() => localPorts(['--port', '8233'], {})).toThrow(/both 8233/);
  });
});

describe('links the CLI prints', () => {
  it('point at the Web UI that is really there', () => {
    expect(webUiBase({ CELLOS_UI_URL: 'https://ui.lab.example/' }, '10.0.0.5:7233')).toBe('https://ui.lab.example');
    expect(webUiBase({}, 'mylab.a1b2c.tmprl.cloud:7233')).toBe('https://cloud.temporal.io');
    expect(webUiBase({}, 'localhost:7233')).toBe('http://localhost:8233');
    // Another cluster whose UI nobody named: no guessed link.
    expect(webUiBase({}, 'temporal.internal:7233')).toBeUndefined();
  });

  it('find a local server started on other ports from what npm run server recorded', () => {
    const file = join(mkdtempSync(join(tmpdir(), 'cellos-ui-')), 'temporal.json');
    writeFileSync(file, JSON.stringify({ address: '127.0.0.1:7300', uiUrl: 'http://localhost:8300' }));
    expect(recordedUiUrl('127.0.0.1:7300', file)).toBe('http://localhost:8300');
    expect(recordedUiUrl('localhost:7300', file)).toBe('http://localhost:8300');
    expect(recordedUiUrl('127.0.0.1:7233', file)).toBeUndefined();
  });
});

describe('watch and start options', () => {
  it('parse and refuse what is not allowed', () => {
    expect(parseCommand(['watch', 'demo', '--interval', '5'])).toMatchObject({ command: 'watch', args: ['demo'] });
    expect(parseInterval('5')).toBe(5000);
    expect(parseInterval(undefined)).toBe(2000);
    expect(() => parseInterval('0.1')).toThrow(/from 0.5 to 600/);
    expect(parseCommand(['start', 'examples/demo.yaml', '--rerun']).flags.rerun).toBe(true);
  });
});
