import { type LabCatalogue, maxDoseFromStock } from '../domain/lab-catalogue';
import { PROTOCOL } from '../domain/prices';
import type { CampaignConfig } from './campaign-config';
import { suggest as didYouMean, type ConfigProblem } from './validation';

/**
 * A campaign config checked against what the lab publishes, before anything starts: names the lab
 * does not know are refused (listing the known ones, with a "did you mean"), a pair the lab cannot
 * run is refused, a top dose the stock cannot make is refused, and a stock that may not cover the
 * planned campaign is a warning that names the item and the exact restock command.
 */
export interface LabCheck {
  problems: ConfigProblem[];
  warnings: string[];
}

export function checkConfigAgainstLab(config: CampaignConfig, lab: LabCatalogue): LabCheck {
  const problems: ConfigProblem[] = [];
  const warnings: string[] = [];
  const lines = new Set(lab.cellLines);
  const compounds = new Map(lab.compounds.map((c) => [c.compound, c]));
  const runnable = lab.pairs ? new Set(lab.pairs.map((p) => `${p.cellLine}|${p.compound}`)) : undefined;

  config.cellLines.forEach((line, i) => {
    if (!lines.has(line))
      problems.push({
        field: fieldFor(config, 'cellLine', line, i),
        value: line,
        message: `the lab "${lab.labName}" has no cell line of that name${didYouMean(line, lab.cellLines)}; known: ${lab.cellLines.join(', ')}`,
      });
  });
  config.compounds.forEach((compound, i) => {
    if (!compounds.has(compound))
      problems.push({
        field: fieldFor(config, 'compound', compound, i),
        value: compound,
        message: `the lab "${lab.labName}" has no compound of that name${didYouMean(compound, [...compounds.keys()])}; known: ${[...compounds.keys()].join(', ')}`,
      });
  });
  if (problems.length === 0 && runnable) {
    config.pairs.forEach((p, i) => {
      if (runnable.has(`${p.cellLine}|${p.compound}`)) return;
      const withCompound = lab.pairs!.filter((q) => q.compound === p.compound).map((q) => q.cellLine);
      problems.push({
        field: config.design === 'pairs' ? `pairs[${i}]` : 'cellLines × compounds',
        value: `${p.cellLine} × ${p.compound}`,
        message: `the lab "${lab.labName}" cannot run this pair (its profile has no response model for it); lines it runs with ${p.compound}: ${withCompound.join(', ') || 'none'}`,
      });
    });
  }
  if (problems.length > 0) return { problems, warnings };

  // Dose volumes as the protocol adds them: C_stock × V_stock = C_final × V_final, V_stock ≤ the addition.
  const finalMicrolitres = PROTOCOL.mediumMicrolitres + PROTOCOL.compoundAdditionMicrolitres;
  const plannedWells = config.maxIterations * config.batchSize * config.replicates;
  config.pairs.forEach((p, i) => {
    const stock = compounds.get(p.compound)!;
    // The lab's own rule (its liquid handler's), or the volume rule from a catalogue without one.
    const byVolume = maxDoseFromStock(stock.stockMicromolar, 'volume');
    const maxDose = stock.maxDoseMicromolar ?? byVolume.micromolar;
    const why = stock.maxDoseRule ?? byVolume.why;
    if (p.doseRange.maxMicromolar > maxDose + 1e-12)
      problems.push({
        field:
          config.design === 'pairs' && config.pairsWithOwnRange.includes(i)
            ? `pairs[${i}].doseRange.maxMicromolar`
            : 'doseRange.maxMicromolar',
        value: p.doseRange.maxMicromolar,
        message: `${p.compound}'s stock is ${stock.stockMicromolar} µM (lot ${stock.lot || 'unknown'}), which makes at most ${round3(maxDose)} µM in a ${finalMicrolitres} µL well (${why}); allowed: at most ${round3(maxDose)}, or stock a more concentrated lot`,
      });
    else if (p.doseRange.maxMicromolar * config.rangeExtensionFactor > maxDose + 1e-12)
      // Range extension (on by default) may ask for more than the stock can make: say so before the lab fails those wells.
      warnings.push(
        `${p.cellLine} × ${p.compound}: range extension (rangeExtensionFactor ${config.rangeExtensionFactor}) may ask for up to ${round3(p.doseRange.maxMicromolar * config.rangeExtensionFactor)} µM, but the ${stock.stockMicromolar} µM stock makes at most ${round3(maxDose)} µM; lower rangeExtensionFactor to ${Math.max(1, Math.floor((100 * maxDose) / p.doseRange.maxMicromolar) / 100)} or stock a more concentrated lot`,
      );
  });
  for (const compound of config.compounds) {
    const stock = compounds.get(compound)!;
    const share = config.pairs.filter((p) => p.compound === compound).length / config.pairs.length;
    const top = Math.max(...config.pairs.filter((p) => p.compound === compound).map((p) => p.doseRange.maxMicromolar));
    // Conservative: every planned well at the top dose.
    const needed =
      stock.stockMicromolar > 0 ? (plannedWells * share * top * finalMicrolitres) / stock.stockMicromolar : Infinity;
    if (needed > stock.microlitres) {
      const amount = Math.ceil(Math.max(needed - stock.microlitres, 1));
      warnings.push(
        `${compound}: ${round3(stock.microlitres)} µL of the ${stock.stockMicromolar} µM stock may not cover the planned campaign (up to ${round3(needed)} µL at the top dose); restock with: npx cellos restock ${compound} ${amount} --concentration ${stock.stockMicromolar || '<µM>'}${stock.lot ? ` --lot ${stock.lot}` : ''}`,
      );
    }
  }
  return { problems, warnings };
}

function fieldFor(config: CampaignConfig, kind: 'cellLine' | 'compound', name: string, index: number): string {
  if (config.design === 'pairs') {
    const i = config.pairs.findIndex((p) => p[kind] === name);
    return `pairs[${i}].${kind}`;
  }
  return `${kind === 'cellLine' ? 'cellLines' : 'compounds'}[${index}]`;
}

function round3(v: number): number {
  return Math.round(v * 1000) / 1000;
}
