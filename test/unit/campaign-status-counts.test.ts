import { describe, expect, it } from 'vitest';
import type { ExperimentOutcome, Proposal } from '../../src/domain/types';
import { CampaignStateModel } from '../../src/workflows/campaign-state';
import { testConfig } from '../helpers/configs';

const proposal = (id: string, isControl: boolean): Proposal => ({
  proposalId: id,
  cellLine: 'U2OS',
  compound: isControl ? '' : 'staurosporine',
  doseMicromolar: isControl ? 0 : 1,
  assay: 'viability',
  isControl,
});

const outcome = (p: Proposal, status: 'succeeded' | 'failed', well: string): ExperimentOutcome => ({
  proposal: p,
  location: { plateId: 'x-p001', well },
  experimentWorkflowId: `campaign-x/${p.proposalId}`,
  status,
  costUsd: 1,
  completedSteps: ['seed'],
  iteration: 1,
});

describe('campaign status counts', () => {
  it('counts vehicle controls alike in done, running and failed, so the three add up to every well', () => {
    const state = CampaignStateModel.fresh('campaign-x', testConfig(), 'x');
    state.recordOutcome(outcome(proposal('e1', false), 'succeeded', 'A1'));
    state.recordOutcome(outcome(proposal('c1', true), 'succeeded', 'A2'));
    state.recordOutcome(outcome(proposal('e2', false), 'failed', 'A3'));
    state.recordOutcome(outcome(proposal('c2', true), 'failed', 'A4'));
    for (const [id, isControl, well] of [
      ['e3', false, 'A5'],
      ['c3', true, 'A6'],
    ] as const)
      state.running.set(id, {
        proposal: proposal(id, isControl),
        location: { plateId: 'x-p001', well },
        workflowId: `campaign-x/${id}`,
        committedUsd: 1,
      });
    const { experiments } = state.status();
    expect(experiments).toEqual({ done: 2, running: 2, failed: 2, controls: 1 });
    expect(experiments.done + experiments.running + experiments.failed).toBe(6);
  });
});
