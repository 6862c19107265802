import { pathToFileURL } from 'node:url';
import { CliError, campaignResults, type CampaignClientOptions } from './campaign-client';

/**
 * `cellos report <id> [--out FILE]`: fetch a campaign's results (the results query while it runs,
 * the workflow result once it has completed) and write the HTML report. The report module (and
 * Vega with it) is loaded only here, so other commands do not pay for it.
 */
export async function reportCommand(
  opts: CampaignClientOptions,
  id: string,
  outPath: string | undefined,
): Promise<{ path: string; url: string; pairs: number }> {
  if (outPath !== undefined && outPath.trim() === '')
    throw new CliError('report: --out needs a file path, e.g. --out report.html', 2);
  const results = await campaignResults(opts, id);
  const { defaultReportPath, writeReport } = await import('../report/index');
  const path = await writeReport(results, outPath ?? defaultReportPath(results.status.campaignId));
  const pairs = new Set(
    results.outcomes.filter((o) => !o.proposal.isControl).map((o) => `${o.proposal.cellLine}|${o.proposal.compound}`),
  ).size;
  return { path, url: pathToFileURL(path).href, pairs };
}
