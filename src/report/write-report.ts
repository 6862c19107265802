import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import type { CampaignResults } from '../domain/campaign-status';
import { renderReport } from './render-report';
import type { ReportOptions } from './report-data';

/** Where `cellos report` writes when no --out is given: var/reports/<campaign-id>.html. */
export function defaultReportPath(campaignId: string): string {
  return join('var', 'reports', `${campaignId.replace(/[^A-Za-z0-9._-]/g, '_')}.html`);
}

/** Render the report and write it to `path` (parent folders created). Returns the absolute path. */
export async function writeReport(
  results: CampaignResults,
  path: string,
  options: ReportOptions = {},
): Promise<string> {
  const html = await renderReport(results, options);
  const target = resolve(path);
  await mkdir(dirname(target), { recursive: true });
  await writeFile(target, html, 'utf8');
  return target;
}
