import { afterEach, describe, expect, it } from 'vitest';
import type { CampaignResults } from '../../src/domain/campaign-status';
import { campaignSpend, experimentCostUsd } from '../../src/domain/costs';
import type { ExperimentOutcome } from '../../src/domain/types';
import { auditCampaign, compareRuns } from '../../src/lab/campaign-audit';
import { LabStore } from '../../src/lab/lab-store';
import { compoundPricing, profilePricing } from '../../src/lab/catalogue';
import { createVirtualLab, type VirtualLab } from '../../src/lab/virtual-lab';
import { PROFILE, runPlate, tempDbPath, type WellPlan } from './fixtures';

/** The audit the crash tests rely on must itself catch every kind of damage it claims to. */
const open: VirtualLab[] = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((lab) => lab.close()));
});

const plans: WellPlan[] = ['B2', 'B3', 'B4'].map((well, i) => ({
  plateId: 'audit-p001',
  well,
  cellLine: 'U2OS',
  compound: i === 0 ? '' : 'staurosporine',
  doseMicromolar: i === 0 ? 0 : 0.1 * i,
  assay: 'reporter',
}));

/** Runs the wells on a fresh lab and returns the lab file and the results a correct campaign would hold. */
async function cleanCampaign(): Promise<{ dbPath: string; results: CampaignResults; lab: VirtualLab }> {
  const dbPath = tempDbPath();
  const lab = createVirtualLab({ dbPath, profile: PROFILE });
  open.push(lab);
  const outcomes: ExperimentOutcome[] = [];
  const read = await runPlate(lab, plans);
  for (const [i, plan] of plans.entries()) {
    const outcome = read.get(plan.well)!;
    const readout = outcome.ok ? outcome.value : undefined;
    const isControl = plan.compound === '';
    outcomes.push({
      proposal: {
        proposalId: `i001-e${i}`,
        cellLine: plan.cellLine,
        compound: plan.compound,
        doseMicromolar: plan.doseMicromolar,
        assay: plan.assay,
        isControl,
      },
      location: { plateId: plan.plateId, well: plan.well },
      experimentWorkflowId: `campaign-audit/i001-e${i}`,
      status: 'succeeded',
      readout,
      costUsd: experimentCostUsd(
        plan.assay,
        plan.doseMicromolar,
        isControl ? undefined : compoundPricing(PROFILE, plan.compound),
      ),
      completedSteps: ['seed', 'dose', 'measure'],
      iteration: 1,
    });
  }
  // As `status` charges it: the wells, plus the 93 wells of the opened plate left empty.
  const spend = campaignSpend(
    outcomes.map((o) => ({
      ...o,
      pricing: o.proposal.isControl ? undefined : compoundPricing(PROFILE, o.proposal.compound),
    })),
  );
  const spentUsd = Math.round(spend.totalUsd * 100) / 100;
  const results = { status: { spentUsd, estimates: [], iteration: 1 }, outcomes } as unknown as CampaignResults;
  return { dbPath, results, lab };
}

function audit(dbPath: string, results: CampaignResults) {
  const store = LabStore.open(dbPath);
  try {
    return auditCampaign({ results, store, compounds: profilePricing(PROFILE) });
  } finally {
    store.close();
  }
}

describe('the campaign audit', () => {
  it('passes a campaign whose records match the lab exactly', async () => {
    const { dbPath, results } = await cleanCampaign();
    expect(audit(dbPath, results)).toMatchObject({
      wells: 3,
      duplicateOperations: 0,
      lostResults: 0,
      duplicateResults: 0,
      plateSteps: 3,
      repeatedPlateSteps: 0,
      problems: [],
    });
  });

  it('catches a result the lab produced but the campaign lost', async () => {
    const { dbPath, results } = await cleanCampaign();
    const report = audit(dbPath, { ...results, outcomes: results.outcomes.slice(1) });
    expect(report.lostResults).toBe(1);
    expect(report.problems.join('\n')).toMatch(
      /audit-p001\/B2: 3 lab operation\(s\) on a well no outcome accounts for/,
    );
  });

  it('catches a result recorded twice and a readout that differs from the lab', async () => {
    const { dbPath, results } = await cleanCampaign();
    const [first, second] = results.outcomes as [ExperimentOutcome, ExperimentOutcome];
    expect(audit(dbPath, { ...results, outcomes: [...results.outcomes, first] }).duplicateResults).toBe(1);
    const altered = { ...second, readout: { ...second.readout!, signal: second.readout!.signal + 1 } };
    const report = audit(dbPath, { ...results, outcomes: [first, altered, results.outcomes[2]!] });
    expect(report.lostResults).toBe(1);
    expect(report.problems.join('\n')).toMatch(/recorded readout differs/);
  });

  it('catches a plate step run as a second protocol run', async () => {
    const { dbPath, results, lab } = await cleanCampaign();
    await lab.readPlate({
      operationKey: 'audit-p001/read-again',
      plateId: 'audit-p001',
      attempt: 1,
      assay: 'reporter',
      wells: ['B3'],
      treatmentHours: 24,
    });
    const report = audit(dbPath, results);
    expect(report.repeatedPlateSteps).toBe(1);
    expect(report.plateSteps).toBe(4);
    expect(report.problems).toContain(
      'plate audit-p001: read ran as 2 protocol runs (audit-p001/read, audit-p001/read-again)',
    );
  });

  it('catches a well the lab read twice', async () => {
    const { dbPath, results, lab } = await cleanCampaign();
    // A reporter read is not lytic: a second read under another key is possible, and a duplicate.
    await lab.read({
      operationKey: 'someone-else/read',
      location: { plateId: 'audit-p001', well: 'B3' },
      assay: 'reporter',
      treatmentHours: 24,
      attempt: 1,
    });
    const report = audit(dbPath, results);
    expect(report.duplicateOperations).toBe(1);
    expect(report.problems).toContain('audit-p001/B3: read performed 2 times');
  });

  it('catches spending that differs from the work the lab did', async () => {
    const { dbPath, results } = await cleanCampaign();
    const report = audit(dbPath, { ...results, status: { ...results.status, spentUsd: results.status.spentUsd + 1 } });
    expect(report.problems.join('\n')).toMatch(/spent \$.* but the lab physically did \$/);
  });

  it('compares two runs proposal by proposal', async () => {
    const { results } = await cleanCampaign();
    expect(compareRuns(results, results)).toEqual([]);
    const changed = {
      ...results,
      outcomes: results.outcomes.map((o, i) => (i === 1 ? { ...o, normalisedResponse: 0.5 } : o)),
    };
    expect(compareRuns(changed, results)).toEqual([expect.stringMatching(/^i001-e1: /)]);
    expect(compareRuns({ ...results, outcomes: results.outcomes.slice(1) }, results)).toEqual(['i001-e0: missing']);
  });
});
