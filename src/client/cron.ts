import { CliError } from './campaign-client';

/**
 * `schedule create --cron`: checked here, before anything is sent, with the grammar the Temporal
 * server accepts for a schedule's cron string (checked against the dev server case by case in
 * test/bad-input/cron.test.ts), so a bad expression is refused with exit 2, naming the flag, the
 * value and what is allowed, instead of surfacing as the server's error after connecting.
 *
 * Accepted: 5 fields (minute hour day-of-month month day-of-week), 6 (plus a year, 2000-2100) or 7
 * (a second first, then those six); each field `*`, a value, a range `a-b`, any of those with a
 * step `/n`, or a comma list of them; month and weekday names (JAN, January; MON, Monday, Mo); the
 * shorthands @yearly, @annually, @monthly, @weekly, @daily, @midnight, @hourly; `@every <interval>
 * [/<offset>]` (Go durations such as 30m, 1h30m or 2d; at least 1 s, offset below the interval);
 * an optional leading `CRON_TZ=<zone>` or `TZ=<zone>`; an optional trailing `# comment`.
 */
export const CRON_ALLOWED =
  'allowed: 5 fields "minute hour day-of-month month day-of-week" (e.g. "0 2 * * *", "*/15 8-18 * * MON-FRI"), ' +
  '6 with a year or 7 with a second first, @hourly, @daily, @weekly, @monthly, @yearly, ' +
  'or @every <interval>[/<offset>] (e.g. "@every 6h"), optionally after CRON_TZ=<zone>';

const SHORTHANDS = new Set(['@yearly', '@annually', '@monthly', '@weekly', '@daily', '@midnight', '@hourly']);

const MONTHS = ['jan', 'feb', 'mar', 'apr', 'may', 'jun', 'jul', 'aug', 'sep', 'oct', 'nov', 'dec'];
const MONTH_NAMES = [
  'january',
  'february',
  'march',
  'april',
  'may',
  'june',
  'july',
  'august',
  'september',
  'october',
  'november',
  'december',
];
const DAYS = ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'];
const DAY_NAMES = ['sunday', 'monday', 'tuesday', 'wednesday', 'thursday', 'friday', 'saturday'];
const DAYS_2 = ['su', 'mo', 'tu', 'we', 'th', 'fr', 'sa'];

interface Field {
  name: string;
  min: number;
  max: number;
  names?: (text: string) => number | undefined;
}

const monthNumber = (t: string) => {
  const i = Math.max(MONTHS.indexOf(t), MONTH_NAMES.indexOf(t));
  return i >= 0 ? i + 1 : undefined;
};
const dayNumber = (t: string) => {
  const i = Math.max(DAYS.indexOf(t), DAY_NAMES.indexOf(t), DAYS_2.indexOf(t));
  return i >= 0 ? i : undefined;
};

const SECOND: Field = { name: 'second', min: 0, max: 59 };
const MINUTE: Field = { name: 'minute', min: 0, max: 59 };
const HOUR: Field = { name: 'hour', min: 0, max: 23 };
const DAY_OF_MONTH: Field = { name: 'day-of-month', min: 1, max: 31 };
const MONTH: Field = { name: 'month', min: 1, max: 12, names: monthNumber };
const DAY_OF_WEEK: Field = { name: 'day-of-week', min: 0, max: 7, names: dayNumber };
const YEAR: Field = { name: 'year', min: 2000, max: 2100 };

const LAYOUTS: Record<number, Field[]> = {
  5: [MINUTE, HOUR, DAY_OF_MONTH, MONTH, DAY_OF_WEEK],
  6: [MINUTE, HOUR, DAY_OF_MONTH, MONTH, DAY_OF_WEEK, YEAR],
  7: [SECOND, MINUTE, HOUR, DAY_OF_MONTH, MONTH, DAY_OF_WEEK, YEAR],
};

/** Returns the expression as given (trimmed); throws CliError (exit 2) naming `--cron`, the value and what is allowed. */
export function checkCron(text: string): string {
  const cron = text.trim();
  const problem = cronProblem(cron);
  if (problem)
    throw new CliError(
      `--cron: "${cron.slice(0, 100)}" is not a cron expression Temporal accepts (${problem}); ${CRON_ALLOWED}`,
      2,
    );
  return cron;
}

/** What is wrong with a cron string, in words, or undefined. */
export function cronProblem(cron: string): string | undefined {
  let rest = cron.split('#')[0]!.trim(); // "# …" to the end is a comment
  const zone = /^(?:CRON_TZ|TZ)=(\S*)(?:\s+|$)/.exec(rest);
  if (zone) {
    if (zone[1] !== '' && !knownTimeZone(zone[1]!)) return `unknown time zone "${zone[1]}"`;
    rest = rest.slice(zone[0].length);
  }
  if (SHORTHANDS.has(rest)) return undefined;
  if (rest === '@every' || rest.startsWith('@every ')) return everyProblem(rest.slice('@every'.length).trim());
  const fields = rest.split(/\s+/).filter((f) => f !== '');
  const layout = LAYOUTS[fields.length];
  if (!layout) return `${fields.length} field(s); a cron expression has 5, 6 or 7`;
  for (const [i, field] of layout.entries()) {
    const p = fieldProblem(fields[i]!, field);
    if (p) return p;
  }
  return undefined;
}

function fieldProblem(text: string, field: Field): string | undefined {
  const value = (t: string): number | undefined => {
    if (/^\d+$/.test(t)) return Number(t);
    return field.names?.(t.toLowerCase());
  };
  const range = `${field.name} must be from ${field.min} to ${field.max}${field.names ? ' or a name' : ''}`;
  for (const item of text.split(',')) {
    if (item === '') return `an empty item in the ${field.name} field "${text}"`;
    const parts = item.split('/');
    if (parts.length > 2) return `the ${field.name} "${item}" has more than one "/"`;
    const [span, step] = parts as [string, string | undefined];
    if (step !== undefined && !(/^\d+$/.test(step) && Number(step) > 0))
      return `the ${field.name} step in "${item}" must be a whole number of at least 1`;
    if (span === '*') continue;
    const bounds = span.split('-');
    if (bounds.length > 2) return `the ${field.name} "${item}" is not a value or a range`;
    const [start, end] = bounds.map(value);
    if (start === undefined || start < field.min || start > field.max) return `${range} (got "${item}")`;
    if (bounds.length === 2 && (end === undefined || end < start || end > field.max))
      return `the ${field.name} range "${item}" must run upwards within ${field.min}-${field.max}`;
  }
  return undefined;
}

/** `@every <interval>[/<offset>]`: the server's minimum interval is 1 s, and the offset must be shorter. */
function everyProblem(spec: string): string | undefined {
  if (spec === '') return '@every needs an interval, e.g. "@every 6h"';
  const [interval, offset, ...more] = spec.split('/');
  if (more.length > 0) return `"@every ${spec}" has more than one "/"`;
  const intervalMs = durationMs(interval!);
  if (intervalMs === undefined) return `"${interval}" is not an interval such as 30m, 6h, 1h30m or 2d`;
  if (intervalMs < 1_000) return `the interval "${interval}" is below the server's minimum of 1 s`;
  if (offset === undefined || offset === '') return undefined;
  const offsetMs = durationMs(offset);
  if (offsetMs === undefined) return `"${offset}" is not an offset such as 15m`;
  if (offsetMs >= intervalMs) return `the offset "${offset}" must be shorter than the interval "${interval}"`;
  return undefined;
}

const UNIT_MS: Record<string, number> = {
  ns: 1e-6,
  us: 1e-3,
  µs: 1e-3,
  ms: 1,
  s: 1_000,
  m: 60_000,
  h: 3_600_000,
  d: 86_400_000,
};

/** A Go duration (`1h30m`, `1.5h`, `90s`) plus Temporal's `d`, in ms; undefined if it is not one. */
function durationMs(text: string): number | undefined {
  if (!/^(\d+(\.\d*)?|\.\d+)(ns|us|µs|ms|s|m|h|d)((\d+(\.\d*)?|\.\d+)(ns|us|µs|ms|s|m|h|d))*$/.test(text))
    return undefined;
  let total = 0;
  for (const m of text.matchAll(/(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|ms|s|m|h|d)/g)) total += Number(m[1]) * UNIT_MS[m[2]!]!;
  return total;
}

function knownTimeZone(zone: string): boolean {
  try {
    new Intl.DateTimeFormat('en', { timeZone: zone });
    return true;
  } catch {
    return false;
  }
}
