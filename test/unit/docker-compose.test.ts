import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';
import { ALL_SEARCH_ATTRIBUTES } from '../../src/temporal/search-attributes';

/** No Docker engine exists here, so the compose file is checked for wiring, not run. */
interface Service {
  image?: string;
  build?: string;
  command?: string[] | string;
  environment?: Record<string, string | number>;
  depends_on?: Record<string, { condition: string }> | string[];
  ports?: string[];
}
const compose = parse(readFileSync('docker-compose.yml', 'utf8')) as { services: Record<string, Service> };
const services = compose.services;
const dependsOn = (s: Service) => (Array.isArray(s.depends_on) ? s.depends_on : Object.keys(s.depends_on ?? {}));

describe('docker-compose.yml', () => {
  it('runs Temporal on PostgreSQL with the credentials the database was created with', () => {
    const pg = services.postgresql!.environment!;
    const temporal = services.temporal!;
    expect(temporal.environment!.DB).toMatch(/^postgres/);
    expect(temporal.environment!.POSTGRES_SEEDS).toBe('postgresql');
    expect(temporal.environment!.POSTGRES_USER).toBe(pg.POSTGRES_USER);
    expect(temporal.environment!.POSTGRES_PWD).toBe(pg.POSTGRES_PASSWORD);
    expect(dependsOn(temporal)).toContain('postgresql');
  });

  it('points the UI and both worker roles at the Temporal frontend', () => {
    for (const name of ['temporal-ui', 'orchestration-worker', 'lab-worker']) {
      expect(services[name]?.environment?.TEMPORAL_ADDRESS, name).toBe('temporal:7233');
    }
    expect(services['orchestration-worker']!.command).toContain('src/workers/orchestration.ts');
    expect(services['lab-worker']!.command).toContain('src/workers/lab.ts');
    expect(services['lab-worker']!.environment!.CELLOS_LAB_DB).toBeDefined();
  });

  it('registers every search attribute the code uses before workers start', () => {
    const setup = JSON.stringify(services['temporal-setup']!.command);
    for (const key of ALL_SEARCH_ATTRIBUTES) expect(setup).toContain(`${key.name}:`);
    for (const name of ['orchestration-worker', 'lab-worker'])
      expect(dependsOn(services[name]!)).toContain('temporal-setup');
  });

  it('exposes the Web UI on 8233 and the frontend on 7233', () => {
    expect(services['temporal-ui']!.ports).toContain('8233:8080');
    expect(services.temporal!.ports).toContain('7233:7233');
  });
});
