import type { PairState } from './types';

/** States that answer a pair's question: an estimate within its goal, or a stated verdict. */
export const ANSWERED_STATES: ReadonlySet<PairState> = new Set<PairState>(['answered', 'inactive', 'out of range']);

export interface PairStateLine {
  cellLine: string;
  compound: string;
  state: PairState;
  outOfRange?: 'above' | 'below';
  stopReason?: string;
}

/**
 * Every pair's state in one line: counts by state, then each pair that has no answer with the
 * reason it stopped ("pairs: 6 answered, 1 inactive, 1 well cap (HeLa × cmpd-e: stopped at the
 * well cap …)"). Out-of-range pairs name their side.
 */
export function describePairStates(pairs: readonly PairStateLine[]): string {
  const label = (p: PairStateLine) =>
    p.state === 'out of range' && p.outOfRange ? `out of range (${p.outOfRange})` : p.state;
  const counts = new Map<string, number>();
  for (const p of pairs) counts.set(label(p), (counts.get(label(p)) ?? 0) + 1);
  const short = pairs
    .filter((p) => !ANSWERED_STATES.has(p.state))
    .map((p) => `${p.cellLine} × ${p.compound}: ${p.stopReason ?? p.state}`);
  const listed = short.length > 12 ? [...short.slice(0, 12), `${short.length - 12} more`] : short;
  return `pairs: ${[...counts].map(([state, n]) => `${n} ${state}`).join(', ')}${listed.length ? ` (${listed.join('; ')})` : ''}`;
}
