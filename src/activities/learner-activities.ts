import { loadProposer, type ProposerName } from '../learner/index';
import type { ProposeInput, ProposeOutput } from '../learner/proposer';

/**
 * Learning runs as an activity on the orchestration queue, not inside workflow code: a Bayesian
 * fit is CPU work that would trip the workflow isolate's deadline, and as an activity its result
 * is recorded once in history so replay never recomputes it.
 */
export interface ProposeBatchInput extends ProposeInput {
  proposer: ProposerName;
}

export function createLearnerActivities() {
  return {
    async proposeBatch(input: ProposeBatchInput): Promise<ProposeOutput> {
      const { proposer: name, ...rest } = input;
      const proposer = await loadProposer(name);
      return proposer.propose(rest);
    },
  };
}

export type LearnerActivities = ReturnType<typeof createLearnerActivities>;
