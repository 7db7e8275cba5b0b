import type { QcMessage } from '../../src/protocol/frame-codec.js';

/**
 * A Connect speaker the bridge does not drive takes playback over like any renderer (docs/protocol.md
 * §5.5, issue #24): on being made active it continues where the previously active renderer was, from
 * that renderer's last report (82) as the service relayed it, extrapolated while it played. Read from
 * the messages a SimRenderer received; null when no other renderer was active or none reported.
 */
export interface TakenOver {
  readonly playing: 'PLAYING' | 'PAUSED' | 'STOPPED';
  readonly positionMs: number;
  readonly queueItemId: number;
  readonly durationMs: number;
}

const NAMES: Record<number, TakenOver['playing']> = { 1: 'STOPPED', 2: 'PLAYING', 3: 'PAUSED' };

export function takeoverFrom(received: readonly QcMessage[], selfId: number, now: number): TakenOver | null {
  let active = -1;
  const last = new Map<number, TakenOver & { atMs: number }>();
  for (const m of received) {
    if (m.type === 81 || m.type === 86) {
      const id = m.body.active_renderer_id ?? -1;
      if (id !== selfId) active = id;
    } else if (m.type === 82 && m.body.player_state && (m.body.renderer_id ?? 0) !== selfId) {
      const s = m.body.player_state;
      last.set(m.body.renderer_id ?? 0, {
        playing: NAMES[s.playing_state ?? 0] ?? 'STOPPED',
        positionMs: s.current_position?.value ?? 0,
        atMs: s.current_position?.timestamp ? Number(s.current_position.timestamp.toString()) : now,
        queueItemId: s.current_queue_item_id ?? 0,
        durationMs: s.duration ?? 0,
      });
    }
  }
  const from = last.get(active);
  if (!from) return null;
  const positionMs = from.playing === 'PLAYING' ? from.positionMs + Math.max(0, now - from.atMs) : from.positionMs;
  return { playing: from.playing, positionMs, queueItemId: from.queueItemId, durationMs: from.durationMs };
}
