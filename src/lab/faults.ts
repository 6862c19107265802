import { setTimeout as sleep } from 'node:timers/promises';
import type { Instrument } from '../config/lab-config';
import type { Assay } from '../domain/types';
import { type FaultProfile, INSTRUMENT_OFFLINE, type InstrumentFaultProfile, LabFault } from './driver';
import type { LabStore, OperationKind, StoredFault } from './lab-store';
import { streamFor } from './rng';
import { readerFor } from '../temporal/task-queues';

/**
 * Instrument faults of the virtual lab, switched on per instrument by the lab profile.
 *
 * Every draw is keyed (rng.ts): attempt-level faults (transient error, latency spike, hang, going
 * offline) by (lab seed, instrument, operation key, attempt), so a retry gets a fresh draw and the
 * same attempt always behaves the same; plate-level faults (a dropped plate) by (lab seed, logical
 * plate, instrument, step), so every well of the plate shares the fate and a rerun of the same
 * campaign drops the same plates. None of the attempt-level faults changes what is physically
 * done, so they never change a readout: they only cost time and retries.
 */

/** Which instruments each step uses, in order: the incubator holds plates between steps. */
export function instrumentsFor(kind: OperationKind, assay?: Assay): Instrument[] {
  switch (kind) {
    case 'seed':
      return ['liquid-handler', 'incubator'];
    case 'dose':
      return ['incubator', 'liquid-handler'];
    case 'read':
      return ['incubator', readerFor(assay ?? 'viability')];
  }
}

/** The name a person reads ("plate reader"), e.g. in "waiting for the plate reader". */
export function instrumentName(instrument: string): string {
  return instrument.replace(/-/g, ' ');
}

/** Accepts an instrument id ("plate-reader") or its name ("plate reader"). */
export function instrumentId(nameOrId: string): string {
  return nameOrId.trim().toLowerCase().replace(/\s+/g, '-');
}

export interface AttemptContext {
  labSeed: number;
  faults: FaultProfile;
  operationKey: string;
  attempt: number;
  kind: OperationKind;
  plateId: string;
  well: string;
}

/**
 * Instrument time of the attempts in flight: which are hung (the driver reports them unresponsive,
 * so their heartbeats stop) and the waits that closing the lab cuts short.
 */
export class AttemptClock {
  private readonly hung = new Set<string>();
  private readonly closing = new AbortController();

  isHung(operationKey: string, attempt: number): boolean {
    return this.hung.has(key(operationKey, attempt));
  }

  /** Waits `ms` of real time, or less if the lab closes meanwhile. */
  async wait(ms: number): Promise<void> {
    if (ms <= 0 || this.closing.signal.aborted) return;
    await sleep(ms, undefined, { signal: this.closing.signal }).catch(() => undefined);
  }

  /** Stays silent for `ms` (or until the lab closes), then fails the attempt as a transient fault. */
  async hang(operationKey: string, attempt: number, ms: number, instrument: string): Promise<never> {
    const id = key(operationKey, attempt);
    this.hung.add(id);
    try {
      await this.wait(ms);
    } finally {
      this.hung.delete(id);
    }
    throw new LabFault(
      'InstrumentHung',
      `the ${instrumentName(instrument)} stopped answering for ${ms} ms on ${operationKey} (attempt ${attempt}); reset`,
      false,
      instrumentName(instrument),
    );
  }

  /** Ends every wait at once (the lab is closing). */
  close(): void {
    this.closing.abort();
  }
}

function key(operationKey: string, attempt: number): string {
  return `${operationKey}#${attempt}`;
}

/**
 * Runs the attempt-level faults of every instrument the step uses, before anything physical
 * happens: an instrument already offline refuses; otherwise it may go offline now, hang, be slow
 * or fail transiently. Each injected fault is logged in the lab file. Returns normally when the
 * instruments are fit to do the operation.
 */
export async function injectAttemptFaults(
  store: LabStore,
  clock: AttemptClock,
  context: AttemptContext,
  instruments: Instrument[],
  now: () => number = Date.now,
): Promise<void> {
  const { labSeed, operationKey, attempt } = context;
  const log = (kind: Parameters<LabStore['recordFault']>[0]['kind'], instrument: string) =>
    store.recordFault({ kind, instrument, operationKey, attempt, plateId: context.plateId, well: context.well });
  for (const instrument of instruments) {
    const outage = store.outage(instrument, now());
    if (outage) {
      log('offline refusal', instrument);
      throw offline(instrument, outage.reason);
    }
    const profile = profileOf(context.faults, instrument);
    if (!profile) continue;
    const draw = (fault: string) => streamFor(labSeed, 'fault', instrument, fault, operationKey, attempt);
    if (rate(profile.offlineRate) && draw('offline').chance(rate(profile.offlineRate))) {
      const seconds = profile.offlineSeconds ?? 30;
      const reason = `went offline for ${seconds} s (injected fault)`;
      store.setOffline(instrument, { reason, untilMs: now() + seconds * 1000 });
      log('went offline', instrument);
      throw offline(instrument, reason);
    }
    if (rate(profile.hangRate) && draw('hang').chance(rate(profile.hangRate))) {
      log('hang', instrument);
      await clock.hang(operationKey, attempt, profile.hangMs ?? 60_000, instrument);
    }
    if (rate(profile.latencySpikeRate) && draw('latency').chance(rate(profile.latencySpikeRate))) {
      log('latency spike', instrument);
      await clock.wait(profile.latencySpikeMs ?? 2_000);
    }
    if (rate(profile.transientErrorRate) && draw('transient').chance(rate(profile.transientErrorRate))) {
      log('transient', instrument);
      throw new LabFault(
        'InstrumentFault',
        `transient ${instrumentName(instrument)} error on ${operationKey} (attempt ${attempt}); retry`,
        false,
        instrumentName(instrument),
      );
    }
  }
}

/**
 * The plate-level permanent fault of this step, if one of its instruments drops the plate. Drawn
 * per logical plate, so every well of the plate meets the same fate, and logged with the operation.
 */
export function plateDrop(
  context: { labSeed: number; faults: FaultProfile; noiseKey: string; kind: OperationKind; plateId: string },
  instruments: Instrument[],
): { instrument: Instrument; fault: StoredFault } | undefined {
  for (const instrument of instruments) {
    const p = rate(profileOf(context.faults, instrument)?.plateDropRate);
    if (p > 0 && streamFor(context.labSeed, 'plate drop', context.noiseKey, instrument, context.kind).chance(p))
      return {
        instrument,
        fault: {
          type: 'PlateDropped',
          message: `the ${instrumentName(instrument)} dropped plate ${context.plateId} during ${context.kind}; its wells are lost`,
          permanent: true,
        },
      };
  }
  return undefined;
}

function profileOf(faults: FaultProfile, instrument: string): InstrumentFaultProfile | undefined {
  return faults.instruments?.[instrument];
}

function rate(value: number | undefined): number {
  return value !== undefined && Number.isFinite(value) && value > 0 ? Math.min(value, 1) : 0;
}

function offline(instrument: string, reason: string): LabFault {
  return new LabFault(
    INSTRUMENT_OFFLINE,
    `the ${instrumentName(instrument)} is offline (${reason})`,
    false,
    instrumentName(instrument),
  );
}
