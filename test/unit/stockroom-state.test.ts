import { describe, expect, it } from 'vitest';
import { StockroomQueue } from '../../src/workflows/stockroom-state';

describe('the stockroom queue', () => {
  it('refuses a keyless restock of an item already queued, naming the queued one', () => {
    const queue = new StockroomQueue();
    queue.add({ key: 'k1', item: 'Tips', amount: '10', keyless: true });
    expect(queue.refusal({ key: 'k2', item: 'tips', keyless: true })).toMatchObject({ key: 'k1', amount: '10' });
  });

  it('takes a restock with its own key, of another item, or once the queued one is done', () => {
    const queue = new StockroomQueue();
    queue.add({ key: 'k1', item: 'tips', amount: '10', keyless: false });
    expect(queue.refusal({ key: 'k2', item: 'tips', keyless: false })).toBeUndefined();
    expect(queue.refusal({ key: 'k3', item: 'plates', keyless: true })).toBeUndefined();
    queue.done('k1');
    expect(queue.refusal({ key: 'k4', item: 'tips', keyless: true })).toBeUndefined();
    expect(queue.list()).toEqual([]);
  });
});
