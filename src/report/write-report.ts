import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import type { CampaignResults } from '../domain/campaign-status';
import { renderReport } from './render-report';
import type { ReportOptions } from './report-data';

/**
 * Where a report goes when no --out is given: <dir>/<campaign-id>.html, the folder being
 * CELLOS_REPORTS_DIR or var/reports. The campaign writes its own there when it ends.
 */
export function defaultReportPath(
  campaignId: string,
  dir = process.env.CELLOS_REPORTS_DIR || join('var', 'reports'),
): string {
  return join(dir, `${campaignId.replace(/[^A-Za-z0-9._-]/g, '_')}.html`);
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
