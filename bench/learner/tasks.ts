import { runCurve, type CurveResult } from './arms';
import { runPortfolio, type PortfolioResult } from './portfolio';
import { SCENARIOS, type ScenarioName } from './scenarios';

/** A unit of benchmark work, small enough to balance across worker threads. */
export type BenchTask =
  | { kind: 'curves'; scenario: ScenarioName; seed: number; from: number; to: number }
  | { kind: 'portfolio'; seed: number; index: number };

export type BenchTaskResult =
  { kind: 'curves'; results: CurveResult[] } | { kind: 'portfolio'; result: PortfolioResult };

export function runTask(task: BenchTask): BenchTaskResult {
  if (task.kind === 'portfolio') return { kind: 'portfolio', result: runPortfolio(task.seed, task.index) };
  const results: CurveResult[] = [];
  for (let i = task.from; i < task.to; i++) results.push(runCurve(SCENARIOS[task.scenario], task.seed, i));
  return { kind: 'curves', results };
}
