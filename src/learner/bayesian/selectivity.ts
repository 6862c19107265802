import type { Objective } from '../../config/campaign-config';
import type { CampaignAnalysis, Interval } from './analyse';
import { sampleQuantile } from './math';

/**
 * The answer to a `selectivity` question, per compound: the dose window in which the line to kill
 * is at or below `killBelow` while the line to spare stays at or above `spareAbove`. The window is
 * [kill edge, spare edge]; it exists when the kill edge lies below the spare edge, and the
 * posterior probability of that is reported with both edges' intervals.
 */
export interface SelectivityWindow {
  compound: string;
  killLine: string;
  spareLine: string;
  /** log10 µM. */
  killEdge: Interval;
  spareEdge: Interval;
  /** Width of the window (spare edge - kill edge) in log10 units. */
  widthLog10: Interval;
  probWindowExists: number;
}

export function selectivityWindows(analysis: CampaignAnalysis, objective: Objective): SelectivityWindow[] {
  if (objective.type !== 'selectivity') return [];
  const out: SelectivityWindow[] = [];
  const compounds = [...new Set(analysis.pairs.map((p) => p.compound))];
  for (const compound of compounds) {
    const kill = analysis.pairs.find((p) => p.compound === compound && p.cellLine === objective.killLine);
    const spare = analysis.pairs.find((p) => p.compound === compound && p.cellLine === objective.spareLine);
    if (!kill || !spare) continue;
    const n = Math.min(kill.goalSamples.length, spare.goalSamples.length);
    const width = new Float64Array(n);
    let exists = 0;
    // The pairs' samples are independent draws, so pairing them index by index samples the difference.
    for (let i = 0; i < n; i++) {
      width[i] = spare.goalSamples[i]! - kill.goalSamples[i]!;
      if (width[i]! > 0) exists++;
    }
    width.sort();
    out.push({
      compound,
      killLine: objective.killLine,
      spareLine: objective.spareLine,
      killEdge: kill.summary.goal!.interval,
      spareEdge: spare.summary.goal!.interval,
      widthLog10: {
        median: sampleQuantile(width, 0.5),
        lo: sampleQuantile(width, 0.025),
        hi: sampleQuantile(width, 0.975),
      },
      probWindowExists: n > 0 ? exists / n : 0,
    });
  }
  return out;
}
