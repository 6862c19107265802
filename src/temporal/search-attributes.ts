import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';

/**
 * Search attributes a scientist filters by in the Web UI, e.g.
 * `CampaignId = "campaign-demo"` lists a campaign and all its experiments.
 * The dev-server script registers them; on another cluster run
 * `temporal operator search-attribute create` for each (README).
 */
export const CAMPAIGN_ID = defineSearchAttributeKey('CampaignId', SearchAttributeType.KEYWORD);
export const CAMPAIGN_STATUS = defineSearchAttributeKey('CampaignStatus', SearchAttributeType.KEYWORD);
export const CELL_LINE = defineSearchAttributeKey('CellLine', SearchAttributeType.KEYWORD_LIST);
export const COMPOUND = defineSearchAttributeKey('Compound', SearchAttributeType.KEYWORD_LIST);
export const ASSAY = defineSearchAttributeKey('Assay', SearchAttributeType.KEYWORD);

export const ALL_SEARCH_ATTRIBUTES = [CAMPAIGN_ID, CAMPAIGN_STATUS, CELL_LINE, COMPOUND, ASSAY] as const;
