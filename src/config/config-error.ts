// ConfigError and its formatting have no zod or YAML in them: the CLI names ConfigError on every
// call, and `cellos status` should not pay for loading the parsers it never uses.
/** A config or argument problem a person can act on: which field, what it held, what is allowed. */
export interface ConfigProblem {
  field: string;
  value: unknown;
  message: string;
}

export class ConfigError extends Error {
  constructor(
    readonly source: string,
    readonly problems: ConfigProblem[],
  ) {
    super(`${source} is invalid:\n${problems.map((p) => `  - ${formatProblem(p)}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

export function formatProblem(p: ConfigProblem): string {
  const shown = p.value === undefined ? '' : ` (got ${showValue(p.value)})`;
  return `${p.field}: ${p.message}${shown}`;
}

function showValue(v: unknown): string {
  if (typeof v === 'number' && !Number.isFinite(v)) return String(v);
  const s = JSON.stringify(v);
  if (s === undefined) return String(v);
  return s.length > 80 ? `${s.slice(0, 77)}...` : s;
}

export function fieldPath(path: readonly PropertyKey[]): string {
  if (path.length === 0) return '(top level)';
  return path.map((k, i) => (typeof k === 'number' ? `[${k}]` : i === 0 ? String(k) : `.${String(k)}`)).join('');
}
