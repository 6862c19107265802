import { mkdirSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { completedResults, startCampaign } from '../../src/client/campaign-client';
import { resolveCampaignConfig } from '../../src/config/campaign-config';
import { builtinLabConfig, type LabConfig } from '../../src/config/lab-config';
import { incubatorStatusQuery } from '../../src/temporal/messages';
import { incubatorWorkflowId } from '../../src/temporal/task-queues';
import { runWorkers } from '../../src/workers/lab';
import { dosePlateSeconds, readPlateSeconds, seedPlateSeconds } from '../../src/instruments/plate-time';
import { CELLS_PER_WELL } from '../../src/workflows/batch';
import { COMPOUND_MICROLITRES, MEDIUM_MICROLITRES } from '../../src/workflows/plate';
import { openBenchLab } from '../bench-lab';

/**
 * `npm run bench:lab`: a simulated lab day on a real dev server. Three campaigns of 96 treatment
 * wells each share one lab (liquid handler, plate reader, a 2-plate incubator) on a compressed
 * clock. Prints instrument utilisation, each campaign's makespan, and the makespan against its
 * lower bound: the larger of (work on the bottleneck instrument ÷ its capacity) and the longest
 * campaign's own critical path (its batches run one after another: propose → execute → learn).
 */
const SECONDS_PER_LAB_HOUR = Number(process.env.BENCH_SECONDS_PER_LAB_HOUR ?? 0.2);
const CAMPAIGNS = [
  { name: 'bench-a', priority: 2 },
  { name: 'bench-b', priority: 3 },
  { name: 'bench-c', priority: 3 },
];
const BATCH = 32;
const ITERATIONS = Number(process.env.BENCH_ITERATIONS ?? 3);
const CONTROLS_PER_LINE = 2;
const LINES = ['U2OS', 'HEK293T'];
const labConfig: LabConfig = {
  ...builtinLabConfig(),
  incubator: { capacityPlates: 2, reapIntervalSeconds: 60 },
};

async function main(): Promise<void> {
  const { client, guard, queues, workers, close } = await openBenchLab({
    name: 'bench',
    labConfig,
    // The server fires a timer no sooner than this after it is due for timers shorter than it (1 s
    // by default): on this compressed clock the 4 h attachment (0.8 s) would last 5 lab hours.
    dynamicConfig: { 'history.timerProcessorMaxTimeShift': process.env.BENCH_TIMER_SHIFT ?? '20ms' },
    ...(process.env.BENCH_WORKFLOW_TASK_SLOTS
      ? { maxConcurrentWorkflowTaskExecutions: Number(process.env.BENCH_WORKFLOW_TASK_SLOTS) }
      : {}),
  });
  console.log(
    `bench:lab — 3 campaigns × ${BATCH * ITERATIONS} treatment wells, ${SECONDS_PER_LAB_HOUR} s per lab hour, incubator ${labConfig.incubator.capacityPlates} plates`,
  );

  const run = async () => {
    const t0 = Date.now();
    const handles = await Promise.all(
      CAMPAIGNS.map((c) =>
        startCampaign(
          { client, ...queues },
          resolveCampaignConfig(
            {
              name: c.name,
              cellLines: LINES,
              compounds: ['staurosporine', 'tunicamycin'],
              doseRange: { minMicromolar: 0.001, maxMicromolar: 10 },
              assay: 'viability',
              // Every campaign runs all its wells: the benchmark measures scheduling, not learning.
              proposer: 'space-filling',
              batchSize: BATCH,
              maxIterations: ITERATIONS,
              budgetUsd: 10_000,
              seed: 5,
              priority: c.priority,
              secondsPerLabHour: SECONDS_PER_LAB_HOUR,
              controlsPerLine: CONTROLS_PER_LINE,
            },
            c.name,
          ),
          `campaign-${c.name}`,
        ),
      ),
    );
    const results = await Promise.all(handles.map((h) => completedResults(h)));
    const tEnd = Date.now();
    const descriptions = await Promise.all(handles.map((h) => h.describe()));
    const incubator = await client.workflow
      .getHandle(incubatorWorkflowId(queues.labTaskQueue))
      .query(incubatorStatusQuery);
    await client.workflow.getHandle(incubatorWorkflowId(queues.labTaskQueue)).terminate('benchmark done');
    // Every workflow's history, for a breakdown of where a plate's time went (event timestamps).
    if (process.env.BENCH_HISTORY_OUT) {
      const ids: string[] = [];
      for await (const w of client.workflow.list()) ids.push(w.workflowId);
      const out: Record<string, unknown> = {};
      for (const id of ids) out[id] = await client.workflow.getHandle(id).fetchHistory();
      writeFileSync(process.env.BENCH_HISTORY_OUT, JSON.stringify(out));
    }
    return { t0, tEnd, results, descriptions, incubator };
  };
  const { t0, tEnd, results, descriptions, incubator } = (await runWorkers(workers, run()))!;

  const toLabHours = (ms: number) => ms / 1000 / SECONDS_PER_LAB_HOUR;
  const makespanH = toLabHours(tEnd - t0);
  // The lower bound from the plates that really ran: each plate's instrument work (plate-time.ts,
  // the same model the virtual lab times itself by) plus its two incubations.
  const protocolH = 4 + 24;
  const plateWork = new Map<string, { campaign: number; seedH: number; doseH: number; readH: number }>();
  results.forEach((r, campaign) => {
    const byPlate = new Map<string, typeof r.outcomes>();
    for (const o of r.outcomes) byPlate.set(o.location.plateId, [...(byPlate.get(o.location.plateId) ?? []), o]);
    for (const [plateId, outcomes] of byPlate) {
      const seedWells = outcomes.map((o) => ({
        well: o.location.well,
        cellLine: o.proposal.cellLine,
        cellsPerWell: CELLS_PER_WELL.default,
        volumeMicrolitres: MEDIUM_MICROLITRES,
      }));
      const doseWells = outcomes.map((o) => ({
        well: o.location.well,
        compound: o.proposal.isControl ? '' : o.proposal.compound,
        doseMicromolar: o.proposal.isControl ? 0 : o.proposal.doseMicromolar,
        volumeMicrolitres: COMPOUND_MICROLITRES,
      }));
      plateWork.set(plateId, {
        campaign,
        seedH: seedPlateSeconds(labConfig, seedWells) / 3600,
        doseH: dosePlateSeconds(labConfig, doseWells) / 3600,
        readH: readPlateSeconds(labConfig, outcomes.length) / 3600,
      });
    }
  });
  const work = [...plateWork.values()];
  const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);
  const holdOf = (w: (typeof work)[number]) => protocolH + w.seedH + w.doseH + w.readH;
  const minimalHoldH = sum(work.map(holdOf)) / work.length;
  const lh = labConfig.liquidHandler;
  // Plates are whole: a plate holds one slot from its seeding to its read. Holds that never exceed
  // the incubator's capacity at once split into that many chains of back-to-back holds (interval
  // graphs are perfect), and one chain has at least ⌈plates ÷ slots⌉ of them: 9 plates on 2 slots
  // leave one slot 5 plates to hold one after another. So the makespan is at least the sum of the
  // ⌈plates ÷ slots⌉ shortest holds, a bound that "work ÷ slots" (4.5 plates a slot) undercuts by 10%.
  const holdsH = work.map(holdOf).sort((a, b) => a - b);
  const platesPerSlot = Math.ceil(holdsH.length / labConfig.incubator.capacityPlates);
  const bounds = {
    incubator: sum(work.map(holdOf)) / labConfig.incubator.capacityPlates,
    'incubator, whole plates': sum(holdsH.slice(0, platesPerSlot)),
    'liquid-handler': sum(work.map((w) => w.seedH + w.doseH)) / lh.capacity,
    'plate-reader': sum(work.map((w) => w.readH)) / labConfig.plateReader.capacity,
    // A campaign's batches run one after another. The learner's real time between them (tens of
    // ms per batch for this proposer, under 0.2 lab h) is orchestration, left out as the rest is.
    'critical path': Math.max(...CAMPAIGNS.map((_, c) => sum(work.filter((w) => w.campaign === c).map(holdOf)))),
  };
  const [boundName, lowerBoundH] = Object.entries(bounds).sort((a, b) => b[1] - a[1])[0]!;
  // Instrument operations per plate: distinct plate-step runs (lease holders are "<plate>/<step>#<attempt>").
  const runs = new Set(guard.uses().map((u) => u.holder.replace(/#\d+$/, '')));
  const operationsPerPlate = runs.size / plateWork.size;
  const attemptsPerPlate = guard.uses().length / plateWork.size;

  const busy = (instrument: string) => guard.uses(instrument).reduce((s, u) => s + (u.endedAtMs - u.startedAtMs), 0);
  const incubatorHeldMs = incubator.log.reduce((s, u) => s + (u.releasedAtMs - u.grantedAtMs), 0);
  const utilisation = {
    'liquid-handler': busy('liquid-handler') / lh.capacity / (tEnd - t0),
    'plate-reader': busy('plate-reader') / (tEnd - t0),
    incubator: incubatorHeldMs / labConfig.incubator.capacityPlates / (tEnd - t0),
  };
  // Dispatch gap: time between one use of an instrument ending and the next starting while work was queued.
  const gaps = (instrument: string) => {
    const uses = guard.uses(instrument);
    const g: number[] = [];
    for (let i = 1; i < uses.length; i++) {
      const gap = uses[i]!.startedAtMs - uses[i - 1]!.endedAtMs;
      if (gap >= 0 && gap < 1_000) g.push(gap);
    }
    g.sort((a, b) => a - b);
    return g.length
      ? { median: g[Math.floor(g.length / 2)]!, p90: g[Math.floor(g.length * 0.9)]! }
      : { median: 0, p90: 0 };
  };
  const lhGap = gaps('liquid-handler');
  const readerGap = gaps('plate-reader');
  const heldH = incubator.log.map((u) => toLabHours(u.releasedAtMs - u.grantedAtMs));
  const meanHoldH = heldH.reduce((s, h) => s + h, 0) / heldH.length;
  const experiments = results.reduce((s, r) => s + r.outcomes.length, 0);

  const lines: string[] = [];
  lines.push('', 'campaign   priority  makespan (lab h)  wells  state');
  results.forEach((r, i) => {
    const d = descriptions[i]!;
    const span = toLabHours((d.closeTime?.getTime() ?? tEnd) - d.startTime.getTime());
    lines.push(
      `${CAMPAIGNS[i]!.name.padEnd(10)} ${String(CAMPAIGNS[i]!.priority).padEnd(9)} ${span.toFixed(1).padStart(16)}  ${String(r.outcomes.length).padStart(5)}  ${r.status.state}`,
    );
  });
  lines.push('', 'instrument      utilisation');
  for (const [k, v] of Object.entries(utilisation)) lines.push(`${k.padEnd(15)} ${(v * 100).toFixed(1).padStart(6)} %`);
  lines.push(
    '',
    'lower bounds (lab h): ' +
      Object.entries(bounds)
        .map(([k, v]) => `${k} ${v.toFixed(1)}`)
        .join(', '),
  );
  lines.push(
    `lab makespan ${makespanH.toFixed(1)} lab h vs lower bound ${lowerBoundH.toFixed(1)} (${boundName}): ratio ${(makespanH / lowerBoundH).toFixed(3)} (${(makespanH / bounds.incubator).toFixed(3)} against incubator work ÷ slots)`,
  );
  lines.push(
    `plate holds: mean ${meanHoldH.toFixed(2)} lab h against a protocol minimum of ${minimalHoldH.toFixed(2)} (orchestration overhead ${((meanHoldH - minimalHoldH) * SECONDS_PER_LAB_HOUR * 1000).toFixed(0)} ms real per plate)`,
  );
  lines.push(
    `dispatch gap between back-to-back operations (real ms): liquid handler median ${lhGap.median}, p90 ${lhGap.p90}; plate reader median ${readerGap.median}, p90 ${readerGap.p90}`,
  );
  lines.push(
    `instrument operations per plate: ${operationsPerPlate.toFixed(2)} plate-step runs (${attemptsPerPlate.toFixed(2)} instrument uses with retries) for ${(experiments / plateWork.size).toFixed(0)} wells`,
  );
  lines.push(
    `${experiments} experiments in ${((tEnd - t0) / 1000).toFixed(1)} s wall time; incubator peak ${incubator.peakPlates} of ${labConfig.incubator.capacityPlates} plates`,
  );
  const ratio = makespanH / lowerBoundH;
  lines.push(`target makespan ≤ 1.25 × lower bound: ${ratio <= 1.25 ? 'PASS' : 'FAIL'}`);
  console.log(lines.join('\n'));
  mkdirSync(resolve('bench/results'), { recursive: true });
  writeFileSync(
    resolve('bench/results/lab.json'),
    JSON.stringify(
      {
        secondsPerLabHour: SECONDS_PER_LAB_HOUR,
        makespanH,
        lowerBoundH,
        boundName,
        bounds,
        utilisation,
        meanHoldH,
        minimalHoldH,
        operationsPerPlate,
        realOverheadMsPerPlate: (meanHoldH - minimalHoldH) * SECONDS_PER_LAB_HOUR * 1000,
        ratio,
      },
      null,
      2,
    ),
  );

  await close();
  if (ratio > 1.25) process.exitCode = 1;
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
