import { readFileSync, statSync } from 'node:fs';
import { parseDocument } from 'yaml';
import type { z } from 'zod';

export { ConfigError, fieldPath, formatProblem, type ConfigProblem } from './config-error';
import { ConfigError, fieldPath, type ConfigProblem } from './config-error';

/** Parse with zod, turning every issue into a ConfigProblem that names field, value and rule. */
export function parseWith<S extends z.ZodType>(schema: S, data: unknown, source: string): z.infer<S> {
  const result = schema.safeParse(data, { reportInput: true });
  if (result.success) return result.data;
  const problems = result.error.issues.map((issue): ConfigProblem => {
    if (issue.code === 'unrecognized_keys') {
      const known = keysAt(schema, issue.path);
      return {
        field: fieldPath(issue.path),
        value: issue.keys,
        message: `unknown key(s) ${issue.keys.map((k) => `"${k}"${suggest(k, known)}`).join(', ')}; remove them or check the spelling`,
      };
    }
    const message = humanMessage(issue);
    const hint =
      issue.code === 'invalid_value' && typeof issue.input === 'string'
        ? suggest(
            issue.input,
            issue.values.filter((v): v is string => typeof v === 'string'),
          )
        : '';
    return { field: fieldPath(issue.path), value: issue.input, message: `${message}${hint}` };
  });
  throw new ConfigError(source, problems);
}

/** Run a cross-field check even when fields have problems of their own, so one pass reports all. */
export const ALWAYS = { when: () => true } as const;

/**
 * A cross-field check that must not stop at malformed input: run on data that failed field checks
 * (see ALWAYS), it may meet a value of the wrong type; that field's own problem already says so.
 */
export function tolerant<T, C>(check: (value: T, ctx: C) => void): (value: T, ctx: C) => void {
  return (value, ctx) => {
    try {
      check(value, ctx);
    } catch {
      // the field-level issue explains it
    }
  };
}

/** ` (did you mean "X"?)` for a close known name: edit distance ≤ 2 (≤ 1 for short names), or the same but for case. */
export function suggest(name: string, known: readonly string[]): string {
  let best: { name: string; distance: number } | undefined;
  for (const k of known) {
    const d = k.toLowerCase() === name.toLowerCase() ? 0 : editDistance(name.toLowerCase(), k.toLowerCase());
    if (!best || d < best.distance) best = { name: k, distance: d };
  }
  return best && best.distance <= Math.max(1, Math.min(2, Math.floor(name.length / 3)))
    ? ` (did you mean "${best.name}"?)`
    : '';
}

function editDistance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    let previous = row[0]!;
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const current = row[j]!;
      row[j] = Math.min(row[j]! + 1, row[j - 1]! + 1, previous + (a[i - 1] === b[j - 1] ? 0 : 1));
      previous = current;
    }
  }
  return row[b.length]!;
}

interface ZodDefLike {
  type?: string;
  shape?: Record<string, unknown>;
  innerType?: unknown;
  in?: unknown;
  element?: unknown;
  options?: unknown[];
}

/** The keys an object schema allows at `path` (through defaults, optionals, pipes, arrays and unions). */
export function keysAt(schema: unknown, path: readonly PropertyKey[]): string[] {
  const defOf = (s: unknown): ZodDefLike | undefined => (s as { _zod?: { def?: ZodDefLike } } | undefined)?._zod?.def;
  const at = (s: unknown, rest: readonly PropertyKey[]): string[] => {
    const def = defOf(s);
    if (!def) return [];
    if (def.innerType !== undefined) return at(def.innerType, rest);
    if (def.type === 'pipe') return at(def.in, rest);
    if (def.options) return [...new Set(def.options.flatMap((o) => at(o, rest)))];
    const [head, ...tail] = rest;
    if (def.type === 'array') return typeof head === 'number' ? at(def.element, tail) : [];
    if (def.type !== 'object' || !def.shape) return [];
    if (head === undefined) return Object.keys(def.shape);
    return at(def.shape[String(head)], tail);
  };
  return at(schema, path);
}

/** zod's default wording, rephrased as "what is allowed" for people editing a YAML file. */
function humanMessage(issue: z.core.$ZodIssue): string {
  // A message written in the schema already speaks to the user; keep it.
  if (!/^(Too (small|big)|Invalid)/.test(issue.message)) return issue.message;
  switch (issue.code) {
    case 'invalid_type':
      if (issue.expected === 'int') return 'must be a whole number';
      if (issue.input === undefined) return `is required (${issue.expected})`;
      if (issue.expected === 'number' && typeof issue.input === 'number') return 'must be a finite number';
      return `must be ${article(issue.expected)} ${issue.expected}`;
    case 'too_big':
      return issue.origin === 'array' || issue.origin === 'string'
        ? `must have at most ${String(issue.maximum)} ${issue.origin === 'array' ? 'entries' : 'characters'}`
        : `must be at most ${String(issue.maximum)}`;
    case 'too_small':
      if (issue.origin === 'array' || issue.origin === 'string') return issue.message;
      return issue.inclusive
        ? `must be at least ${String(issue.minimum)}`
        : `must be greater than ${String(issue.minimum)}`;
    case 'invalid_value':
      return `must be one of ${issue.values.map((v) => JSON.stringify(v)).join(', ')}`;
    default:
      return issue.message;
  }
}

function article(word: string): string {
  return /^[aeiou]/.test(word) ? 'an' : 'a';
}

/**
 * Read a settings file a person named, refusing what is not a regular file of a sensible size
 * before reading a byte (a FIFO would hang, /dev/zero would never end). Errors name the field and
 * the path, never the file's contents.
 */
export function readSettingsFile(path: string, options: { field: string; what: string; maxBytes: number }): string {
  let size: number;
  try {
    const stat = statSync(path);
    if (!stat.isFile()) throw Object.assign(new Error('not a regular file'), { code: 'not a regular file' });
    size = stat.size;
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? 'error';
    throw new ConfigError(path, [
      {
        field: options.field,
        value: path,
        message: `cannot read the ${options.what} (${code}); give the path of a YAML file`,
      },
    ]);
  }
  if (size > options.maxBytes)
    throw new ConfigError(path, [
      {
        field: options.field,
        value: `${size} bytes`,
        message: `file is larger than ${options.maxBytes / 1024} KiB; a ${options.what} is a few kilobytes`,
      },
    ]);
  return readFileSync(path, 'utf8');
}

/**
 * YAML text to plain data, or a ConfigError on '(file)'. A YAML warning (an unknown `!tag`, say)
 * is refused too rather than printed by the library on stderr and the value silently kept as text.
 */
export function parseYamlText(text: string, source: string): unknown {
  const doc = parseDocument(text, { logLevel: 'silent' });
  const problem = doc.errors[0] ?? doc.warnings[0];
  if (problem)
    throw new ConfigError(source, [
      { field: '(file)', value: undefined, message: `not valid YAML: ${problem.message.split('\n')[0]}` },
    ]);
  try {
    return doc.toJS({ maxAliasCount: 100 });
  } catch (err) {
    throw new ConfigError(source, [
      { field: '(file)', value: undefined, message: `not valid YAML: ${(err as Error).message.split('\n')[0]}` },
    ]);
  }
}
