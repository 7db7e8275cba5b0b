import { describe, expect, it } from 'vitest';
import { TypedEmitter } from '../src/util/typed-emitter.js';

type Events = { tick: [n: number] };

describe('TypedEmitter (issue #11 review)', () => {
  it('calls a once listener for the first emit only, and detaches it', () => {
    const e = new TypedEmitter<Events>();
    const seen: number[] = [];
    e.once('tick', (n) => seen.push(n));
    e.emit('tick', 1);
    e.emit('tick', 2);
    expect(seen).toEqual([1]);
  });

  it('removes a once listener with off before it fired', () => {
    const e = new TypedEmitter<Events>();
    const seen: number[] = [];
    const listener = (n: number) => void seen.push(n);
    e.once('tick', listener);
    e.off('tick', listener);
    e.emit('tick', 1);
    expect(seen).toEqual([]);
  });

  it('isolates a throwing listener: the others still run and the error goes to the handler', () => {
    const errors: unknown[] = [];
    const e = new TypedEmitter<Events>((err) => errors.push(err));
    const seen: number[] = [];
    e.on('tick', () => {
      throw new Error('boom');
    });
    e.once('tick', (n) => seen.push(n));
    e.emit('tick', 7);
    e.emit('tick', 8);
    expect(seen).toEqual([7]);
    expect(errors).toHaveLength(2);
  });
});
