import type { Proposer } from './proposer';
import { spaceFillingProposer } from './space-filling';

export type { Proposer, ProposeInput, ProposeOutput, ProposerSettings } from './proposer';

export const PROPOSERS = ['space-filling', 'bayesian'] as const;
export type ProposerName = (typeof PROPOSERS)[number];

/** Look a proposer up by the name a campaign config gives. */
export async function loadProposer(name: ProposerName): Promise<Proposer> {
  if (name === 'space-filling') return spaceFillingProposer;
  const { bayesianProposer } = await import('./bayesian/index');
  return bayesianProposer;
}
