import { describe, expect, it } from 'vitest';
import { builtinLabConfig } from '../../src/config/lab-config';
import { checkConfigAgainstLab } from '../../src/config/lab-check';
import { builtinLabProfile } from '../../src/config/lab-profile';
import { stockForProfile } from '../../src/inventory/default-stock';
import { virtualLabCatalogue } from '../../src/lab/catalogue';
import type { PairEstimate, Proposal } from '../../src/domain/types';
import { CampaignStateModel } from '../../src/workflows/campaign-state';
import { testConfig } from '../helpers/configs';

/** How a campaign ends: every pair's state named, and "goal reached" only when every pair is answered. */

const estimate = (cellLine: string, state: PairEstimate['state'], extra: Partial<PairEstimate> = {}): PairEstimate => ({
  cellLine,
  compound: 'staurosporine',
  wells: 8,
  state,
  ...extra,
});

function withEstimates(estimates: PairEstimate[]): CampaignStateModel {
  const state = CampaignStateModel.fresh('campaign-x', testConfig(), 'x');
  state.snapshot.estimates = estimates;
  return state;
}

describe('the ending of a campaign', () => {
  it('says goal reached when every pair is answered, inactive or out of range, and names their states', () => {
    const state = withEstimates([
      estimate('U2OS', 'answered'),
      estimate('HEK293T', 'inactive'),
      estimate('HeLa', 'out of range', { outOfRange: 'below' }),
    ]);
    const end = state.ending('goal reached', 'no pair is left to work on');
    expect(end.lifecycle).toBe('goal reached');
    expect(end.detail).toContain('pairs: 1 answered, 1 inactive, 1 out of range (below)');
  });

  it('turns "goal reached" into completed when a pair stopped at the well cap, and says which and why', () => {
    const state = withEstimates([
      estimate('U2OS', 'answered'),
      estimate('HEK293T', 'well cap', { stopReason: 'stopped at the well cap (24 wells) at ±0.22' }),
    ]);
    const end = state.ending('goal reached', 'no pair is left to work on');
    expect(end.lifecycle).toBe('completed');
    expect(end.detail).toContain('HEK293T × staurosporine: stopped at the well cap (24 wells) at ±0.22');
  });

  it('records on every pair still estimating that the budget stopped it', () => {
    const state = withEstimates([estimate('U2OS', 'answered'), estimate('HEK293T', 'estimating')]);
    const end = state.ending('budget exhausted', '$99.10 of $100.00 spent; the next experiment does not fit');
    expect(end.lifecycle).toBe('budget exhausted');
    const open = state.snapshot.estimates.find((e) => e.cellLine === 'HEK293T')!;
    expect(open.stopReason).toMatch(/^budget exhausted: \$99\.10 of \$100\.00 spent/);
    expect(state.snapshot.estimates.find((e) => e.cellLine === 'U2OS')!.stopReason).toBeUndefined();
    expect(end.detail).toContain('1 estimating (HEK293T × staurosporine: budget exhausted');
  });

  it("keeps a person's stop reason as the detail, and still marks the open pairs as stopped", () => {
    const state = withEstimates([estimate('HEK293T', 'estimating')]);
    const end = state.ending('stopped', 'enough for today');
    expect(end).toEqual({ lifecycle: 'stopped', detail: 'enough for today' });
    expect(state.snapshot.estimates[0]!.stopReason).toBe('stopped: enough for today');
  });

  it('tells the learner which tried doses were rejected, so they do not count toward the well cap', () => {
    const state = CampaignStateModel.fresh('campaign-x', testConfig(), 'x');
    const p: Proposal = {
      proposalId: 'i001-e01',
      cellLine: 'U2OS',
      compound: 'staurosporine',
      doseMicromolar: 0.1,
      assay: 'viability',
      isControl: false,
    };
    state.snapshot.rejected.push({ iteration: 1, proposals: [p], reason: 'wrong plate' });
    expect(state.triedDoses()).toEqual([
      { cellLine: 'U2OS', compound: 'staurosporine', doseMicromolar: 0.1, rejected: true },
    ]);
  });
});

describe('range extension and the well cap in the config', () => {
  it('extends by ×10 and caps a pair at 24 wells by default, and passes both to the learner', () => {
    const config = testConfig();
    expect(config.rangeExtensionFactor).toBe(10);
    expect(config.maxWellsPerPair).toBe(24);
    const s = CampaignStateModel.fresh('campaign-x', testConfig({ rangeExtensionFactor: 1, maxWellsPerPair: 12 }), 'x');
    expect(s.learnerSettings()).toMatchObject({ rangeExtensionFactor: 1, maxWellsPerPair: 12 });
  });

  it('warns when range extension could ask for more than a stock can make', () => {
    const lab = catalogueOf();
    const high = testConfig({ doseRange: { minMicromolar: 0.01, maxMicromolar: 50 } });
    expect(checkConfigAgainstLab(high, lab).warnings.join('\n')).toMatch(
      /range extension \(rangeExtensionFactor 10\) may ask for up to 500 µM.*lower rangeExtensionFactor to 1\.81 /,
    );
    const off = testConfig({ doseRange: { minMicromolar: 0.01, maxMicromolar: 50 }, rangeExtensionFactor: 1 });
    expect(checkConfigAgainstLab(off, lab).warnings.join('\n')).not.toMatch(/range extension/);
  });
});

function catalogueOf() {
  const profile = builtinLabProfile();
  const items = stockForProfile(profile).map((d) => ({
    ...d,
    reorderLevel: d.reorderLevel ?? 0,
    description: d.description ?? '',
    updatedAt: '',
  }));
  return virtualLabCatalogue({ profile, items, labConfig: builtinLabConfig() });
}
