import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CliError } from '../../src/client/campaign-client';
import { checkCron, cronProblem } from '../../src/client/cron';
import { openTestEnv, type TemporalTestEnv } from '../helpers/temporal-env';

/**
 * `schedule create --cron` is checked before anything is sent, with the grammar the server
 * accepts: every case below is also sent to the real dev server, which must agree with the
 * local check, so the local check neither lets through what the server refuses nor refuses what
 * it takes.
 */
const ACCEPTED = [
  '0 2 * * *',
  '*/15 * * * *',
  '0 0 1 1 *',
  '0 12 * * MON-WED,FRI',
  '0 0 * JAN,jul *',
  '0 0 * * 7',
  '0 0 * * 0',
  '0 2 * * SUNDAY',
  '0 2 * * Su',
  '0 2 * JANUARY *',
  '0 2 * 2-Dec *',
  '0 2 * * mon-fri/2',
  '5-10/2 * * * *',
  '1/5 * * * *',
  '*/60 * * * *',
  '01 02 * * *',
  '0  2 * * *',
  '0 0 * * * 2027',
  '0 2 * * * 2027-2030',
  '0 2 * * 1 2100',
  '0 0 0 * * * 2027',
  '0 2 * * * # nightly',
  '0 2 * * 1#2',
  '@hourly',
  '@daily',
  '@weekly',
  '@monthly',
  '@yearly',
  '@annually',
  '@midnight',
  '@daily # x',
  '@every 30m',
  '@every 1h/5m',
  '@every 1h30m',
  '@every 1.5h',
  '@every 2d',
  '@every 1s',
  '@every 1000ms',
  'CRON_TZ=Europe/Paris 0 2 * * *',
  'TZ=UTC 0 2 * * *',
  'CRON_TZ=UTC @daily',
];
const REFUSED = [
  '60 * * * *',
  '0 24 * * *',
  '0 0 0 * *',
  '0 0 32 * *',
  '0 0 * 13 *',
  '0 0 * * 8',
  '* * * *',
  '* * * * * * * *',
  '0 0 * * * 1999',
  '0 2 * * 1 2101',
  '60 0 0 * * * *',
  '@every',
  '@every 0s',
  '@every 999ms',
  '@every 5',
  '@every 1w',
  '@every 30m/1h',
  '@every 2h/-1m',
  '@reboot',
  '@HOURLY',
  'CRON_TZ=Nowhere/Xyz 0 2 * * *',
  'tz=UTC 0 2 * * *',
  '# only a comment',
  '0 2 ? * *',
  '0 2 L * *',
  '*/0 * * * *',
  '0/0 * * * *',
  '5/ * * * *',
  '*/5/2 * * * *',
  '10-5 * * * *',
  '-1 * * * *',
  'a b c d e',
  '0,,1 * * * *',
  '0 2 * * MON-',
  '0 2 * * 7-1',
  '0 2 * * SUNX',
  '0 2 * Ja *',
  '0 0 * FOO *',
];

let env: TemporalTestEnv;
beforeAll(async () => {
  env = await openTestEnv();
}, 60_000);
afterAll(async () => {
  await env?.close();
});

/** Whether the dev server takes the expression as a schedule's cron string. */
async function serverAccepts(cron: string): Promise<boolean> {
  const scheduleId = `test-cron-${randomUUID().slice(0, 8)}`;
  try {
    const handle = await env.client.schedule.create({
      scheduleId,
      spec: { cronExpressions: [cron] },
      action: { type: 'startWorkflow', workflowType: 'noSuchWorkflow', taskQueue: `test-cron-${scheduleId}`, args: [] },
      state: { paused: true },
    });
    await handle.delete();
    return true;
  } catch (err) {
    expect((err as Error).message).toMatch(/invalid|spec|cron|range|interval|field|zone|step|slash|duration|phase/i);
    return false;
  }
}

describe('schedule create --cron', () => {
  it.each(ACCEPTED)('takes %j', (cron) => expect(cronProblem(cron)).toBeUndefined());
  it.each(REFUSED)('refuses %j', (cron) => expect(cronProblem(cron)).toEqual(expect.any(String)));

  it('agrees with the server on every case', async () => {
    const disagreements: string[] = [];
    for (const cron of [...ACCEPTED, ...REFUSED]) {
      const local = cronProblem(cron) === undefined;
      if ((await serverAccepts(cron)) !== local) disagreements.push(`${JSON.stringify(cron)}: locally ${local}`);
    }
    expect(disagreements).toEqual([]);
  }, 120_000);

  it('refuses with exit 2, naming --cron, the value, why and what is allowed', () => {
    let err: unknown;
    try {
      checkCron('0 25 * * *');
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(CliError);
    expect((err as CliError).exitCode).toBe(2);
    expect((err as CliError).message).toMatch(
      /^--cron: "0 25 \* \* \*" is not a cron expression Temporal accepts \(hour must be from 0 to 23 \(got "25"\)\); allowed: 5 fields/,
    );
    expect((err as CliError).message).toContain('@every <interval>');
    expect(checkCron('  0 2 * * *  ')).toBe('0 2 * * *');
  });
});
