import { describe, expect, it } from 'vitest';
import { Slots } from './slots.js';

describe('Slots', () => {
  it('hands out slots first come, first served, and waits until enough are free', async () => {
    const slots = new Slots(2);
    await slots.acquire();
    await slots.acquire();
    expect(slots.free).toBe(0);
    const order: string[] = [];
    const third = slots.acquire().then(() => order.push('acquired'));
    const two = slots.whenFree(2).then(() => order.push('two free'));
    slots.release();
    await third;
    expect(order).toEqual(['acquired']);
    slots.release();
    slots.release();
    await two;
    expect(order).toEqual(['acquired', 'two free']);
    expect(slots.free).toBe(2);
  });
});
