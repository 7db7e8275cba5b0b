import { describe, expect, it } from 'vitest';
import type { OutgoingMessage } from '../src/protocol/frame-writer.js';
import { volumeChanged, volumeMuted } from '../src/protocol/renderer-messages.js';
import { allEffects, inOrder, NOTHING, say, work } from '../src/session/outcome.js';
import { SessionLink } from '../src/session/session-link.js';

/** The volumes of frames 25 (volumeChanged), as a readable list of what left. */
const volumes = (frames: readonly OutgoingMessage[]): number[] =>
  frames.map((f) => (f as { RndrSrvrVolumeChanged?: { volume?: number } }).RndrSrvrVolumeChanged?.volume ?? -1);

function openLink(): { link: SessionLink; sent: OutgoingMessage[][] } {
  const sent: OutgoingMessage[][] = [];
  const link = new SessionLink(() => 0);
  link.opened(
    (messages) => {
      sent.push(messages);
      return true;
    },
    () => {},
  );
  return { link, sent };
}

describe('an intent says what Qobuz hears, in order, and the loop sends it once (issue #22)', () => {
  it('keeps the frames sent while an intent decides, in order, nested decisions apart, and sends nothing meanwhile', () => {
    const { link, sent } = openLink();
    const outer = link.capture(() => {
      link.send([volumeChanged(1)]);
      const inner = link.capture(() => link.send([volumeChanged(2)]));
      expect(volumes(inner.messages)).toEqual([2]);
      link.send([volumeChanged(3)]);
      return 'decided';
    });
    expect(outer.value).toBe('decided');
    expect(volumes(outer.messages)).toEqual([1, 3]);
    expect(sent).toEqual([]);
    link.send([volumeChanged(4)]);
    expect(sent.map(volumes)).toEqual([[4]]);
  });

  it('still sends what a failing intent sent before it threw', () => {
    const { link, sent } = openLink();
    expect(() =>
      link.capture(() => {
        link.send([volumeChanged(7)]);
        throw new Error('handler failed');
      }),
    ).toThrow('handler failed');
    expect(sent.map(volumes)).toEqual([[7]]);
  });

  it('puts outcomes one after another, frames in order, and the speaker work together', async () => {
    const order: string[] = [];
    const a = Promise.resolve().then(() => void order.push('a'));
    const b = Promise.resolve().then(() => void order.push('b'));
    const out = inOrder(say(volumeChanged(1)), work(a), NOTHING, say(volumeMuted(true), volumeChanged(2)), work(b));
    expect(out.messages).toHaveLength(3);
    expect(volumes(out.messages)).toEqual([1, -1, 2]);
    await out.effect;
    expect(order).toEqual(['a', 'b']);
    expect(allEffects([null, null])).toBeNull();
    expect(allEffects([null, a])).toBe(a);
    await expect(allEffects([a, Promise.reject(new Error('speaker refused'))])).rejects.toThrow('speaker refused');
  });
});
