/**
 * The incubator's plate slots as plain data plus the granting rule, kept apart from the workflow
 * so it is unit-testable. Rule: lowest effective priority key first, then first come first
 * served; a request passed over `AGING_GRANTS` times moves up one priority level, so a
 * low-priority campaign is delayed under contention but never starved.
 */
export const AGING_GRANTS = 4;

export interface SlotRequest {
  /** The campaign workflow that holds the plate and is signalled when it is granted. */
  holderWorkflowId: string;
  plateId: string;
  priorityKey: number;
}

export interface QueuedRequest extends SlotRequest {
  seq: number;
  passedOver: number;
}

export interface SlotHolder extends SlotRequest {
  grantedSeq: number;
  grantedAtMs: number;
}

/** One plate's stay, for utilisation figures. The newest LOG_LIMIT are kept. */
export interface SlotUse {
  plateId: string;
  holderWorkflowId: string;
  grantedAtMs: number;
  releasedAtMs: number;
}
export const LOG_LIMIT = 2_000;

export interface IncubatorSnapshot {
  capacityPlates: number;
  holders: SlotHolder[];
  queue: QueuedRequest[];
  seq: number;
  grants: number;
  /** Largest number of plates ever held at once: the capacity invariant, observable. */
  peakPlates: number;
  log: SlotUse[];
}

export function emptyIncubator(capacityPlates: number): IncubatorSnapshot {
  return { capacityPlates, holders: [], queue: [], seq: 0, grants: 0, peakPlates: 0, log: [] };
}

const same = (a: SlotRequest, b: { plateId: string; holderWorkflowId?: string }) =>
  a.plateId === b.plateId && (b.holderWorkflowId === undefined || a.holderWorkflowId === b.holderWorkflowId);

/** Queue a request; a repeated request for a plate its holder already holds or has queued is a no-op. */
export function enqueue(s: IncubatorSnapshot, request: SlotRequest): void {
  const known = [...s.holders, ...s.queue].some((r) => same(r, request));
  if (known) return;
  s.queue.push({ ...request, seq: ++s.seq, passedOver: 0 });
}

/**
 * Release a held slot or withdraw a queued request: by holder and plate together, so one campaign
 * can never release another's slot (a release without a holder, from histories before holders
 * were sent, matches by plate alone).
 */
export function release(
  s: IncubatorSnapshot,
  which: { plateId: string; holderWorkflowId?: string },
  nowMs: number,
): boolean {
  const before = s.holders.length + s.queue.length;
  for (const h of s.holders.filter((x) => same(x, which))) {
    s.log.push({
      plateId: h.plateId,
      holderWorkflowId: h.holderWorkflowId,
      grantedAtMs: h.grantedAtMs,
      releasedAtMs: nowMs,
    });
  }
  if (s.log.length > LOG_LIMIT) s.log = s.log.slice(-LOG_LIMIT);
  s.holders = s.holders.filter((h) => !same(h, which));
  s.queue = s.queue.filter((q) => !same(q, which));
  return s.holders.length + s.queue.length !== before;
}

export function reprioritise(s: IncubatorSnapshot, holderWorkflowId: string, priorityKey: number): void {
  for (const q of s.queue) if (q.holderWorkflowId === holderWorkflowId) q.priorityKey = priorityKey;
}

export function effectivePriority(q: QueuedRequest): number {
  return q.priorityKey - Math.floor(q.passedOver / AGING_GRANTS);
}

/** Grants free slots; returns the requests granted now (their holders must be told). */
export function grant(s: IncubatorSnapshot, nowMs: number): SlotHolder[] {
  const granted: SlotHolder[] = [];
  while (s.holders.length < s.capacityPlates && s.queue.length > 0) {
    const next = [...s.queue].sort((a, b) => effectivePriority(a) - effectivePriority(b) || a.seq - b.seq)[0]!;
    s.queue = s.queue.filter((q) => q !== next);
    for (const q of s.queue) if (q.seq < next.seq) q.passedOver += 1;
    const holder: SlotHolder = {
      holderWorkflowId: next.holderWorkflowId,
      plateId: next.plateId,
      priorityKey: next.priorityKey,
      grantedSeq: ++s.grants,
      grantedAtMs: nowMs,
    };
    s.holders.push(holder);
    s.peakPlates = Math.max(s.peakPlates, s.holders.length);
    granted.push(holder);
  }
  return granted;
}
