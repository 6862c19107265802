import type { CampaignResults } from '../domain/campaign-status';
import { renderCharts } from './charts';
import { reportHtml } from './html';
import { buildCampaignReport, type ReportOptions } from './report-data';

/**
 * A campaign's results as one self-contained HTML page: the IC50 table, a dose-response plot per
 * pair, interval width against wells, spend, failed wells and plate QC. Async only because Vega's
 * renderer is; no I/O.
 */
export async function renderReport(results: CampaignResults, options: ReportOptions = {}): Promise<string> {
  const report = buildCampaignReport(results, options);
  return reportHtml(report, await renderCharts(report));
}
