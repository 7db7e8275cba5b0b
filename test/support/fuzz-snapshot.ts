import { expect } from 'vitest';
import type { BridgeHarness } from './bridge-harness.js';
import { connectProbe } from './mosquitto-server.js';
import type { SimSession } from './qconnect-service.js';

/**
 * "No state change" for the bad-input suites (issue #8): everything a user or the Qobuz app
 * could observe about the player, taken before and after a flood of bad input. Positions are
 * kept apart from the rest because they advance with time while playing.
 */
export interface BridgeSnapshot {
  readonly atMs: number;
  /** Everything that must be equal, as plain JSON. */
  readonly fixed: Record<string, unknown>;
  /** MPD's elapsed, ms. */
  readonly mpdElapsedMs: number;
  /** The session view's position extrapolated to `atMs` while playing. */
  readonly viewPositionMs: number;
  readonly playing: boolean;
}

export interface SnapshotSources {
  readonly h: BridgeHarness;
  readonly sim: SimSession;
  readonly rendererId: number;
  /** Base topic of the player, e.g. `qobuz-connect/living_room`. */
  readonly topic: string;
}

async function retainedState(h: BridgeHarness, topic: string): Promise<Record<string, unknown>> {
  // A fresh subscriber sees exactly what is retained on the broker now.
  const probe = await connectProbe(h.mosquitto?.url ?? h.bridge.mqttUrl ?? '');
  try {
    await probe.subscribe(`${topic}/state`);
    const m = await probe.waitFor((x) => x.topic === `${topic}/state` && x.retain);
    const { position_ms: _p, position_at: _a, ...rest } = JSON.parse(m.payload) as Record<string, unknown>;
    return rest;
  } finally {
    await probe.end();
  }
}

async function connectInfo(h: BridgeHarness): Promise<unknown> {
  const res = await fetch(`http://127.0.0.1:${h.bridge.httpPort}/devices/${h.playerUuid}/get-connect-info`);
  return res.json();
}

export async function takeSnapshot(src: SnapshotSources): Promise<BridgeSnapshot> {
  const { h, sim, rendererId } = src;
  const status = await h.mpd.status();
  const atMs = Date.now();
  const playlist = await h.mpd.command('playlistinfo');
  const runtime = h.bridge.player(h.playerId);
  if (!runtime) throw new Error(`no player ${h.playerId}`);
  const { positionMs, positionAtMs, ...view } = runtime.session.view();
  const renderer = sim.renderers().find((r) => r.rendererId === rendererId);
  const q = sim.queue();
  const playing = view.state === 'playing';
  return {
    atMs,
    playing,
    mpdElapsedMs: Math.round(Number(status.elapsed ?? 0) * 1000),
    viewPositionMs: positionMs + (playing ? atMs - positionAtMs : 0),
    fixed: {
      mpd: {
        state: status.state,
        songid: status.songid,
        playlistlength: status.playlistlength,
        volume: status.volume,
        repeat: status.repeat,
        random: status.random,
        single: status.single,
        files: [...playlist.matchAll(/^file: (.*)$/gm)].map((m) => m[1]),
      },
      view,
      qobuz: {
        activeRendererId: sim.activeRendererId,
        queueVersion: q.version,
        tracks: q.items.map((i) => i.trackId),
        shuffle: q.shuffle,
        loop: q.loop,
        currentQueueItemId: q.currentQueueItemId,
        renderer: renderer && {
          connected: renderer.connected,
          active: renderer.active,
          joins: renderer.joins,
          playingState: renderer.lastState?.playingState,
          currentQueueItemId: renderer.lastState?.currentQueueItemId,
          volume: renderer.volume,
          muted: renderer.muted,
          maxAudioQuality: renderer.maxAudioQuality,
        },
        // A connect anywhere would open a new WebSocket to the service.
        connections: h.service.connections().length,
      },
      retainedState: await retainedState(h, src.topic),
      connectInfo: await connectInfo(h),
      serviceErrors: h.service.errors.length,
    },
  };
}

/** Equal in everything but time; positions moved by the elapsed wall time (±1.5 s) when playing. */
export function expectUnchanged(before: BridgeSnapshot, after: BridgeSnapshot): void {
  expect(after.fixed).toEqual(before.fixed);
  const dt = before.playing ? after.atMs - before.atMs : 0;
  expect(Math.abs(after.mpdElapsedMs - before.mpdElapsedMs - dt)).toBeLessThan(1500);
  expect(Math.abs(after.viewPositionMs - before.viewPositionMs - dt)).toBeLessThan(1500);
}
