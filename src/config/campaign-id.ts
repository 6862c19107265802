// Apart from the schema so that the client can check an --id without loading zod.
/** Temporal caps a fairness key (the campaign id, `campaign-<name>`) at 64 characters. */
export const MAX_CAMPAIGN_ID_LENGTH = 64;
export const CAMPAIGN_ID_PREFIX = 'campaign-';
