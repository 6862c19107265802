import { describe, expect, it } from 'vitest';
import { USAGE, parseCommand } from '../../src/client/cli';
import { defaultReportPath } from '../../src/report/index';

describe('cellos report', () => {
  it('takes a campaign id and an optional --out file', () => {
    expect(parseCommand(['report', 'demo'])).toMatchObject({ command: 'report', args: ['demo'] });
    expect(parseCommand(['report', 'campaign-demo', '--out', 'out/demo.html'])).toMatchObject({
      command: 'report',
      args: ['campaign-demo'],
      flags: { out: 'out/demo.html' },
    });
    expect(USAGE).toMatch(/cellos report <id> \[--out FILE\]/);
  });

  it('refuses a missing id and unknown options, naming what is allowed', () => {
    expect(() => parseCommand(['report'])).toThrow(/report: expected <id>/);
    expect(() => parseCommand(['report', 'demo', '--json'])).toThrow(/allowed options: --out/);
  });

  it('writes to var/reports/<campaign-id>.html by default', () => {
    expect(defaultReportPath('campaign-demo')).toBe('var/reports/campaign-demo.html');
    expect(defaultReportPath('campaign-a/b')).toBe('var/reports/campaign-a_b.html');
  });
});
