/**
 * Extracts from the Opentrons HTTP API reference (OpenAPI 3.1, robot software 8.2.0) the paths
 * the Opentrons driver uses and every component schema they reach, into
 * test/fixtures/opentrons/openapi-subset.json, so the fake robot in the tests checks requests and
 * responses against the vendor's own schemas without the full reference (a fresh clone has no
 * shared/ folder). Descriptions and titles are dropped: they do not take part in validation.
 *
 *   npx tsx scripts/extract-opentrons-openapi.ts [path/to/opentrons-http-api-8.2.0.openapi.json]
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';

const USED: Record<string, string[]> = {
  '/protocols': ['get', 'post'],
  '/protocols/{protocolId}': ['get'],
  '/protocols/{protocolId}/analyses/{analysisId}': ['get'],
  '/runs': ['get', 'post'],
  '/runs/{runId}': ['get'],
  '/runs/{runId}/actions': ['post'],
  '/runs/{runId}/commands': ['get'],
};

const REFERENCE = 'shared/data/opentrons-http-api-8.2.0.openapi.json';
// shared/ sits beside the clone (CI) or two levels up (a worktree under wt/).
const source = resolve(
  process.argv[2] ?? [`../${REFERENCE}`, `../../${REFERENCE}`].find((p) => existsSync(p)) ?? `../${REFERENCE}`,
);
const target = resolve('test/fixtures/opentrons/openapi-subset.json');

interface OpenApi {
  openapi: string;
  info: Record<string, unknown>;
  paths: Record<string, Record<string, unknown>>;
  components: { schemas: Record<string, unknown> };
}

const reference = JSON.parse(readFileSync(source, 'utf8')) as OpenApi;

function strip(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(strip);
  if (value === null || typeof value !== 'object') return value;
  const out: Record<string, unknown> = {};
  for (const [key, v] of Object.entries(value)) {
    if ((key === 'description' || key === 'title') && typeof v === 'string') continue;
    out[key] = strip(v);
  }
  return out;
}

function refsIn(value: unknown, found: Set<string>): void {
  if (Array.isArray(value)) value.forEach((v) => refsIn(v, found));
  else if (value !== null && typeof value === 'object')
    for (const [key, v] of Object.entries(value)) {
      if (key === '$ref' && typeof v === 'string') found.add(v.replace('#/components/schemas/', ''));
      else refsIn(v, found);
    }
}

const paths: OpenApi['paths'] = {};
for (const [path, methods] of Object.entries(USED)) {
  const item = reference.paths[path];
  if (!item) throw new Error(`${path} is not in ${source}`);
  paths[path] = Object.fromEntries(methods.map((m) => [m, strip(item[m])]));
}

const schemas: Record<string, unknown> = {};
const todo = new Set<string>();
refsIn(paths, todo);
while (todo.size > 0) {
  const [name] = todo;
  todo.delete(name!);
  if (schemas[name!]) continue;
  const schema = reference.components.schemas[name!];
  if (!schema) throw new Error(`schema ${name} is referenced but missing`);
  schemas[name!] = strip(schema);
  const more = new Set<string>();
  refsIn(schema, more);
  for (const m of more) if (!schemas[m]) todo.add(m);
}

const subset = {
  openapi: reference.openapi,
  info: {
    ...reference.info,
    description: `Subset of the Opentrons HTTP API ${String(reference.info.version)} used by cell_OS; extracted by scripts/extract-opentrons-openapi.ts.`,
  },
  paths,
  components: { schemas: Object.fromEntries(Object.entries(schemas).sort(([a], [b]) => a.localeCompare(b))) },
};
mkdirSync(dirname(target), { recursive: true });
writeFileSync(target, JSON.stringify(subset, null, 1) + '\n');
console.log(`${Object.keys(paths).length} paths, ${Object.keys(schemas).length} schemas → ${target}`);
