import type { WellName, WellOutcome } from '../plate-driver';
import type { OpentronsCommand } from './analyzer';
import { describeOccurrence, type OpentronsErrorOccurrence } from './errors';
import type { ProtocolPlan } from './plan';
import type { RobotRun } from './robot-client';

/**
 * Per-well outcomes from what the robot actually did: a well is done when the dispense into it
 * (or into its column, for an 8-channel transfer) succeeded on the cell plate. A run that failed
 * or was stopped part-way leaves the wells it had filled ok and fails the others with the robot's
 * error, so each experiment fails or succeeds on its own.
 */
export function plateOutcomes<T>(
  plan: ProtocolPlan,
  run: RobotRun,
  commands: OpentronsCommand[],
  value: (well: WellName) => T,
  requestedWells: WellName[],
): WellOutcome<T>[] {
  const plate = plan.labware.find((l) => l.name === plan.plateLabware)!;
  const plateId = run.labware.find(
    (l) => l.loadName === plate.loadName && (l.location as { slotName?: string } | undefined)?.slotName === plate.slot,
  )?.id;
  const dispensed = new Set(
    commands
      .filter(
        (c) =>
          c.commandType === 'dispense' &&
          c.status === 'succeeded' &&
          plateId !== undefined &&
          c.params.labwareId === plateId,
      )
      .map((c) => c.params.wellName as string),
  );
  const done = new Set<WellName>();
  for (const t of plan.finalTransfers) if (dispensed.has(t.destinationWell)) t.wells.forEach((w) => done.add(w));
  const why = notDoneReason(run, commands);
  return requestedWells.map((well) =>
    done.has(well)
      ? { well, ok: true, value: value(well) }
      : { well, ok: false, failure: { type: 'InstrumentFault', message: `${well}: ${why}` } },
  );
}

function notDoneReason(run: RobotRun, commands: OpentronsCommand[]): string {
  const error: OpentronsErrorOccurrence | undefined =
    run.errors[0] ?? commands.find((c) => c.status === 'failed')?.error;
  if (run.status === 'failed')
    return `Opentrons run ${run.id} failed before this well was filled: ${error ? describeOccurrence(error) : 'no error given'}`;
  if (run.status === 'stopped') return `Opentrons run ${run.id} was stopped before this well was filled`;
  return `Opentrons run ${run.id} ${run.status} but recorded no dispense into this well`;
}

/** Seconds the run took on the robot, from its own timestamps (0 if it never started). */
export function runSeconds(run: RobotRun, commands: OpentronsCommand[]): number {
  const started = run.startedAt ?? commands.find((c) => c.startedAt)?.startedAt;
  const completed = run.completedAt ?? [...commands].reverse().find((c) => c.completedAt)?.completedAt;
  if (!started || !completed) return 0;
  return Math.max(0, (Date.parse(completed) - Date.parse(started)) / 1000);
}
