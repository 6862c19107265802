/**
 * What the stockroom workflow keeps between messages: the restocks it has accepted that the lab
 * has not applied yet. Plain data and decisions, no Temporal imports, so it is unit-tested alone.
 */
export interface QueuedRestock {
  key: string;
  item: string;
  amount: string;
  /** Started without a key (the CLI made one up). */
  keyless: boolean;
}

export class StockroomQueue {
  private readonly queued = new Map<string, QueuedRestock>();

  /**
   * Why a restock must be refused before it is accepted, or undefined. A restock without a key of
   * an item that already has one queued could be a person re-running a call that only timed out,
   * and would add the stock twice: it is refused, naming the queued one's key. A key of its own
   * says "this is another restock", so it is taken.
   */
  refusal(call: { key: string; item: string; keyless: boolean }): QueuedRestock | undefined {
    if (!call.keyless || this.queued.has(call.key)) return undefined;
    const item = call.item.toLowerCase();
    return [...this.queued.values()].find((q) => q.item.toLowerCase() === item);
  }

  add(restock: QueuedRestock): void {
    this.queued.set(restock.key, restock);
  }

  done(key: string): void {
    this.queued.delete(key);
  }

  list(): QueuedRestock[] {
    return [...this.queued.values()];
  }
}
