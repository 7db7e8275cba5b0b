import type { VolumeRequest } from '../../core/player-view.js';
import { volumeChanged } from '../../protocol/renderer-messages.js';
import type { Effect, SessionCore } from '../session-core.js';

/**
 * README "Volume modes", `external`: the session's side of an amplifier driven by an automation.
 * All run in the session's loop (docs/architecture.md "One owner per player").
 */

/** Publishes a volume intent (absolute, or a delta from the level last asked for); settles with the amplifier's report. */
export function requestExternalVolume(
  core: SessionCore,
  intent: { readonly volume?: number | null; readonly delta?: number | null },
  source: VolumeRequest['source'],
): Effect {
  const ext = core.playback.external;
  if (!ext) return null;
  const base = ext.target ?? core.playback.volume;
  const delta = intent.delta ?? null;
  // Zeros are left off the wire (docs/protocol.md §8): a 42 with neither field is volume 0.
  const target = intent.volume ?? (delta ? base + delta : 0);
  const n = ext.request(target, delta, source);
  core.event('set_volume', { volume: ext.target, delta, requested: true });
  return core.awaitVolumeReport(n);
}

/** `{"volume_report": n}`: the amplifier's real level, the speaker's volume from now on; Qobuz hears it. */
export function volumeReported(core: SessionCore, volume: number): void {
  core.playback.volumeReported(volume);
  if (core.active) core.send([volumeChanged(core.playback.volume)]);
}

/** No report in time: nothing was applied, and the app hears the level the amplifier last reported. */
export function volumeTimedOut(core: SessionCore, n: number): void {
  if (!core.playback.external?.timedOut(n)) return;
  core.log.warn({ code: 'ERR_TIMEOUT' }, "no volume_report from the amplifier's automation in time: volume not applied");
  if (core.active) core.send([volumeChanged(core.playback.volume)]);
}
