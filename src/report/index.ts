/**
 * The campaign report: pure functions from CampaignResults to one self-contained HTML page
 * (inline CSS and SVG), plus `writeReport` to put it in a file. No Temporal imports.
 */
export { renderReport } from './render-report';
export { writeReport, defaultReportPath } from './write-report';
export { buildCampaignReport, inferSettings } from './report-data';
export type { CampaignReport, PairReport, PairFit, ReportOptions } from './report-data';
export { MARKS } from './charts';
export { MISSING_ESTIMATE_FIELDS } from './html';
