import { stringify } from 'yaml';
import { parseRestockRequest } from '../../src/inventory/requests';
import { CAMPAIGN_ID_PATTERN, campaignIdFor, CliError } from '../../src/client/campaign-client';
import { checkCron } from '../../src/client/cron';
import { parseCommand, parsePriority, parseStartAt, parseStockroomCall, parseUsd } from '../../src/client/cli';
import { type CampaignConfig, loadCampaignConfigFile, parseCampaignYaml } from '../../src/config/campaign-config';
import { checkConfigAgainstLab } from '../../src/config/lab-check';
import { builtinLabConfig } from '../../src/config/lab-config';
import { builtinLabProfile, type LabProfile, pairResponse, parseLabProfile } from '../../src/config/lab-profile';
import { ConfigError } from '../../src/config/validation';
import type { LabCatalogue } from '../../src/domain/lab-catalogue';
import { virtualLabCatalogue } from '../../src/lab/catalogue';

/**
 * The edge of the system, run in-process on one input at a time: a campaign config through
 * parse and the check against the lab; a lab profile through parse, the catalogue it publishes and
 * its resolved curves; a `cellos` argument list through the CLI's parsing and every check it makes
 * before it connects. Each run ends "accepted", "rejected" (cleanly: every problem names a field,
 * no stack trace in the message) or "crash" (anything else: an unexpected exception, a rejection
 * naming no field, a stack trace). Shared by the fuzz run and the regression corpus.
 */
export type Verdict =
  | { kind: 'accepted'; detail?: string; config?: CampaignConfig }
  | { kind: 'rejected'; fields: string[]; message: string }
  | { kind: 'crash'; error: string };

const STACK = /\n\s+at /;
const NOW_MS = Date.parse('2026-12-02T12:00:00Z');

export const BUILTIN_CATALOGUE: LabCatalogue = virtualLabCatalogue({
  profile: builtinLabProfile(),
  items: [],
  labConfig: builtinLabConfig(),
});

function rejection(err: unknown): Verdict {
  if (err instanceof ConfigError) {
    const fields = err.problems.map((p) => p.field);
    if (fields.length === 0 || fields.some((f) => typeof f !== 'string' || f.trim() === ''))
      return { kind: 'crash', error: `a rejection that names no field: ${err.message}` };
    if (STACK.test(err.message)) return { kind: 'crash', error: `a stack trace in a rejection: ${err.message}` };
    return { kind: 'rejected', fields, message: err.message };
  }
  if (err instanceof CliError) {
    // "<what>: <why>", "--flag: …", or an unknown command naming itself and what is allowed.
    const named = /^(--[a-z-]+:|[a-z][a-z ._-]*:|unknown command ")/.exec(err.message);
    if (!named) return { kind: 'crash', error: `a CLI refusal that names nothing: ${err.message}` };
    if (STACK.test(err.message)) return { kind: 'crash', error: `a stack trace in a refusal: ${err.message}` };
    return { kind: 'rejected', fields: [named[1]!], message: err.message };
  }
  return { kind: 'crash', error: err instanceof Error ? (err.stack ?? err.message) : String(err) };
}

/** A campaign config's text through parse, the lab check and the start command's argument parsing. */
export function runConfig(text: string, catalogue: LabCatalogue = BUILTIN_CATALOGUE): Verdict {
  let config: CampaignConfig;
  try {
    config = parseCampaignYaml(text, 'fuzz.yaml');
  } catch (err) {
    return rejection(err);
  }
  try {
    const check = checkConfigAgainstLab(config, catalogue);
    if (check.problems.some((p) => typeof p.field !== 'string' || p.field.trim() === ''))
      return { kind: 'crash', error: 'a lab-check problem that names no field' };
    const id = campaignIdFor(config);
    if (!CAMPAIGN_ID_PATTERN.test(id) || id.length > 64)
      return { kind: 'crash', error: `an accepted config whose campaign id "${id}" the server would refuse` };
    parseCommand(['start', 'fuzz.yaml', '--id', id]);
    if (check.problems.length > 0)
      return {
        kind: 'rejected',
        fields: check.problems.map((p) => p.field),
        message: check.problems.map((p) => p.message).join('; '),
      };
    return { kind: 'accepted', config };
  } catch (err) {
    return { kind: 'crash', error: err instanceof Error ? (err.stack ?? err.message) : String(err) };
  }
}

/** A lab profile's text through parse, the catalogue it publishes, a config check and its resolved curves. */
export function runProfile(text: string): Verdict {
  let profile: LabProfile;
  try {
    profile = parseLabProfile(text, 'fuzz-profile.yaml');
  } catch (err) {
    return rejection(err);
  }
  try {
    const catalogue = virtualLabCatalogue({ profile, items: [], labConfig: builtinLabConfig() });
    for (const line of Object.keys(profile.cellLines)) {
      const b = profile.cellLines[line]!;
      if (!(b.doublingHours >= 8 && b.doublingHours <= 1000))
        return { kind: 'crash', error: `accepted doublingHours ${b.doublingHours}` };
      for (const compound of Object.keys(profile.compounds)) {
        const r = pairResponse(profile, line, compound);
        if (!r) continue;
        const values = [r.ic50Micromolar, r.hillSlope, r.bottom, r.top];
        if (!values.every(Number.isFinite) || !(r.bottom < r.top) || !(r.ic50Micromolar > 0))
          return { kind: 'crash', error: `accepted a curve no lab could show: ${JSON.stringify(r)}` };
      }
    }
    const line = catalogue.cellLines[0];
    const compound = catalogue.compounds[0]?.compound;
    if (line && compound) {
      const config = parseCampaignYaml(
        stringify({
          name: 'fuzz-profile',
          cellLines: [line],
          compounds: [compound],
          doseRange: { minMicromolar: 0.01, maxMicromolar: 10 },
          assay: 'viability',
          batchSize: 4,
          maxIterations: 1,
          budgetUsd: 100,
        }),
        'fuzz.yaml',
      );
      checkConfigAgainstLab(config, catalogue);
    }
    return { kind: 'accepted', detail: `${catalogue.cellLines.length} lines, ${catalogue.compounds.length} compounds` };
  } catch (err) {
    return { kind: 'crash', error: err instanceof Error ? (err.stack ?? err.message) : String(err) };
  }
}

/**
 * A `cellos` argument list through everything the CLI checks before it connects (the order of
 * runCli's own checks); "accepted" means it would go on to contact Temporal.
 */
export function runArgv(argv: string[]): Verdict {
  try {
    const { command, args, flags } = parseCommand(argv);
    if (command === 'help') return { kind: 'accepted', detail: 'help' };
    const config = command === 'start' || command === 'schedule create' ? loadCampaignConfigFile(args[0]!) : undefined;
    if (config) {
      const id = campaignIdFor(config, flags.id as string | undefined);
      if (command === 'start' && id.length > 64)
        return {
          kind: 'crash',
          error: `accepted --id "${id}" (${id.length} characters): the server refuses ids over 64`,
        };
    }
    if (command === 'budget') parseUsd(args[1]!);
    if (command === 'priority') parsePriority(args[1]!);
    if (command === 'restock')
      parseRestockRequest({
        item: args[0]!,
        amount: args[1]!,
        ...(flags.lot !== undefined ? { lot: flags.lot as string } : {}),
        ...(flags.concentration !== undefined ? { stockConcentrationMicromolar: flags.concentration as string } : {}),
      });
    if (command === 'restock' || command === 'inventory') parseStockroomCall(flags);
    if (command === 'start' && flags.at !== undefined) parseStartAt(flags.at as string, NOW_MS);
    if (command === 'reject' && !(typeof flags.reason === 'string' && flags.reason.trim() !== ''))
      throw new CliError('reject: --reason "…" is required', 2);
    if (command === 'schedule create' && !(typeof flags.cron === 'string' && flags.cron.trim() !== ''))
      throw new CliError('schedule create: --cron is required', 2);
    if (command === 'schedule create') checkCron(flags.cron as string);
    return { kind: 'accepted', detail: command };
  } catch (err) {
    return rejection(err);
  }
}
