import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';
import { ALL_SEARCH_ATTRIBUTES } from '../../src/temporal/search-attributes';
import { OPERATION_INSTRUMENTS } from '../../src/temporal/task-queues';
import { clientEnv, serverEnv, uiEnv } from '../../scripts/cluster/cluster';
import { clusterSettings, SERVICES } from '../../scripts/cluster/settings';

/**
 * No Docker engine exists here, so the compose file is checked for wiring, not run: it must
 * mirror the scripted cluster (npm run cluster:up -- --tls), which is what the cluster tests run.
 */
interface Service {
  image?: string;
  build?: string;
  command?: string[] | string;
  environment?: Record<string, string | number>;
  depends_on?: Record<string, { condition: string }> | string[];
  ports?: string[];
  volumes?: string[];
}
const text = readFileSync('docker-compose.yml', 'utf8');
const compose = parse(text, { merge: true }) as { services: Record<string, Service> };
const services = compose.services;
const dependsOn = (s: Service) => (Array.isArray(s.depends_on) ? s.depends_on : Object.keys(s.depends_on ?? {}));
// The scripted cluster with mTLS, with nothing taken from this machine's environment.
const scripted = clusterSettings({ tls: true }, {});
const env = (name: string) => services[name]?.environment ?? {};

describe('docker-compose.yml', () => {
  it('runs the four Temporal services as separate containers of the server image', () => {
    for (const name of SERVICES) {
      const service = services[`temporal-${name}`]!;
      expect(service.image, name).toMatch(/^temporalio\/server:1\.32\.1$/);
      expect(env(`temporal-${name}`).SERVICES).toBe(name);
      expect(dependsOn(service)).toContain('temporal-schema');
    }
  });

  it('configures each service with the variables the scripted cluster sets, to the same ports', () => {
    for (const name of SERVICES) {
      const mine = serverEnv(scripted, name, 'pw');
      const theirs = env(`temporal-${name}`);
      for (const key of Object.keys(mine).filter((k) => k !== 'PATH'))
        expect(theirs, `${name}: ${key}`).toHaveProperty(key);
      for (const key of Object.keys(mine).filter(
        (k) => k.endsWith('_PORT') && k !== 'DB_PORT' && k !== 'POSTGRES_PORT',
      ))
        expect(String(theirs[key]), `${name}: ${key}`).toBe(mine[key]);
      expect(String(theirs.PROMETHEUS_ENDPOINT)).toBe(`0.0.0.0:${scripted.services[name].metrics}`);
      expect(theirs.TEMPORAL_TLS_REQUIRE_CLIENT_AUTH).toBe('true');
    }
  });

  it('mounts the same dynamic config file the scripted cluster uses', () => {
    const frontend = services['temporal-frontend']!;
    expect(frontend.volumes).toContain('./deploy/temporal:/etc/cellos/temporal:ro');
    expect(env('temporal-frontend').DYNAMIC_CONFIG_FILE_PATH).toBe('/etc/cellos/temporal/dynamicconfig.yaml');
    expect(scripted.dynamicConfigFile).toMatch(/deploy\/temporal\/dynamicconfig\.yaml$/);
  });

  it('takes passwords and tokens from the environment, never from the file', () => {
    expect(env('postgresql').POSTGRES_PASSWORD).toMatch(/^\$\{POSTGRES_PASSWORD:\?/);
    for (const name of SERVICES) expect(env(`temporal-${name}`).POSTGRES_PWD).toMatch(/^\$\{POSTGRES_PASSWORD:\?/);
    expect(env('temporal-schema').SQL_PASSWORD).toMatch(/^\$\{POSTGRES_PASSWORD:\?/);
    expect(env('codec-server').CELLOS_CODEC_TOKEN).toMatch(/^\$\{CELLOS_CODEC_TOKEN:\?/);
  });

  it('publishes every port on 127.0.0.1 unless CELLOS_BIND_IP says otherwise', () => {
    for (const [name, service] of Object.entries(services))
      for (const port of service.ports ?? [])
        expect(port, name).toMatch(/^\$\{CELLOS_BIND_IP:-127\.0\.0\.1\}:\d+:\d+$/);
  });

  it('exposes the frontend, the Web UI and the metrics on the scripted cluster’s ports', () => {
    expect(services['temporal-frontend']!.ports).toContain(
      `\${CELLOS_BIND_IP:-127.0.0.1}:${scripted.services.frontend.grpc}:${scripted.services.frontend.grpc}`,
    );
    expect(services['temporal-ui']!.ports).toContain(
      `\${CELLOS_BIND_IP:-127.0.0.1}:${scripted.uiPort}:${scripted.uiPort}`,
    );
  });

  it('points the UI at the frontend with a client certificate and at the codec server, with the scripted cluster’s variables', () => {
    const ui = env('temporal-ui');
    expect(services['temporal-ui']!.image).toBe('temporalio/ui:2.54.1');
    for (const key of Object.keys(uiEnv({ ...scripted, codecEndpoint: 'http://x' })).filter((k) => k !== 'PATH'))
      expect(ui, key).toHaveProperty(key);
    expect(ui.TEMPORAL_ADDRESS).toBe('temporal-frontend:7633');
    expect(String(ui.TEMPORAL_CODEC_ENDPOINT)).toContain('8888');
  });

  it('connects the workers and the setup job through envconfig’s variables, with a client certificate', () => {
    const workers = ['orchestration-worker', ...OPERATION_INSTRUMENTS.map((i) => `lab-${i}`)];
    for (const name of [...workers, 'temporal-setup']) {
      for (const key of Object.keys(clientEnv(scripted))) expect(env(name), `${name}: ${key}`).toHaveProperty(key);
      expect(env(name).TEMPORAL_ADDRESS).toBe('temporal-frontend:7633');
    }
    for (const name of workers) {
      expect(env(name).CELLOS_CODEC_KEYS_FILE, name).toBeDefined();
      expect(env(name).CELLOS_METRICS_PORT, name).toBeDefined();
    }
  });

  it('runs one lab worker per instrument, all on one lab file', () => {
    for (const instrument of OPERATION_INSTRUMENTS) {
      const lab = services[`lab-${instrument}`]!;
      expect(lab.command).toEqual(['node', '--import', 'tsx', 'src/workers/lab.ts', '--instrument', instrument]);
      expect(env(`lab-${instrument}`).CELLOS_LAB_DB).toBe('/data/lab.db');
      expect(lab.volumes).toContain('lab-data:/data');
    }
    expect(services['orchestration-worker']!.command).toContain('src/workers/orchestration.ts');
  });

  it('gives every worker and metrics endpoint its own port', () => {
    const published = Object.values(services).flatMap((s) => (s.ports ?? []).map((p) => p.split(':').at(-2)));
    expect(new Set(published).size).toBe(published.length);
  });

  it('registers every search attribute the code uses before workers start', () => {
    const setup = JSON.stringify(services['temporal-setup']!.command);
    for (const key of ALL_SEARCH_ATTRIBUTES)
      expect(setup).toContain(`${key.name}:${key.type === 'KEYWORD' ? 'Keyword' : 'KeywordList'}`);
    for (const name of ['orchestration-worker', 'lab-liquid-handler'])
      expect(dependsOn(services[name]!)).toContain('temporal-setup');
  });

  it('says in the file that it was not run here', () => {
    expect(text).toMatch(/NOT RUN/);
  });
});
