import type { VolumeRequest } from '../../core/player-view.js';
import { volumeChanged, volumeMuted } from '../../protocol/renderer-messages.js';
import { NOTHING, say, inOrder, work, type Outcome } from '../outcome.js';
import type { SessionCore } from '../session-core.js';

/**
 * The volume intents (docs/architecture.md "Intents"; README "Volume modes"): a level or mute from
 * Qobuz (42, 47) or MQTT, the refusals of the `fixed` mode, the requests and reports of the
 * `external` one, and the speaker's own change. Each decides and says what Qobuz hears (25, 26),
 * returning an Outcome; only the active renderer tells Qobuz of a change it did not ask for.
 */
export const volumeIntents = {
  /** 42: a level (or a delta) from the app. Zeros are left off the wire (docs/protocol.md §8): neither field is volume 0. */
  fromQobuz(core: SessionCore, volume: number | null | undefined, delta: number | null | undefined): Outcome {
    const pb = core.playback;
    if (pb.volumeFixed) return volumeIntents.refused(core, 'set_volume');
    // README "Volume modes", `external`: no 25 until the amplifier reports its level.
    if (pb.external) return volumeIntents.request(core, { volume, delta }, 'qobuz');
    const target = volume ?? (delta ? pb.volume + delta : 0);
    const effect = pb.setVolume(target);
    core.event('set_volume', { volume: pb.volume, delta: delta ?? null });
    return inOrder(say(volumeChanged(pb.volume)), work(effect));
  },

  /** 47: mute from the app; the amplifier's with `fixed` or `external`. */
  muteFromQobuz(core: SessionCore, muted: boolean): Outcome {
    const pb = core.playback;
    if (pb.volumeFixed || pb.external) return volumeIntents.refused(core, 'set_mute');
    const effect = pb.setMuted(muted);
    core.event('set_mute', { muted: pb.muted });
    return inOrder(say(volumeMuted(pb.muted)), work(effect));
  },

  /** MQTT `volume` (checked by the verb): asked of the amplifier with `external`, else set; Qobuz hears it while we are active. */
  fromMqtt(core: SessionCore, volume: number): Outcome {
    const pb = core.playback;
    if (pb.external) return volumeIntents.request(core, { volume }, 'mqtt');
    const effect = pb.setVolume(volume);
    return inOrder(core.active ? say(volumeChanged(pb.volume)) : NOTHING, work(effect));
  },

  /** MQTT `muted` (checked by the verb). */
  muteFromMqtt(core: SessionCore, muted: boolean): Outcome {
    const pb = core.playback;
    const effect = pb.setMuted(muted);
    return inOrder(core.active ? say(volumeMuted(pb.muted)) : NOTHING, work(effect));
  },

  /**
   * `fixed` (and a mute with `external`): the app was told volume control is not allowed
   * (docs/protocol.md §5.9); a 42 or 47 that comes anyway changes nothing, and the app hears the
   * volume and mute as they are so its view snaps back.
   */
  refused(core: SessionCore, type: 'set_volume' | 'set_mute'): Outcome {
    const pb = core.playback;
    core.log.info({ code: 'ERR_VOLUME_FIXED' }, "MPD's volume is not ours on this player: volume command ignored");
    core.event(type, { volume: pb.volume, muted: pb.muted, refused: 'ERR_VOLUME_FIXED' });
    return say(volumeMuted(pb.muted), volumeChanged(pb.volume));
  },

  /** `external`: publishes a volume intent (absolute, or a delta from the level last asked for); settles with the amplifier's report. */
  request(
    core: SessionCore,
    intent: { readonly volume?: number | null; readonly delta?: number | null },
    source: VolumeRequest['source'],
  ): Outcome {
    const ext = core.playback.external;
    if (!ext) return NOTHING;
    const base = ext.target ?? core.playback.volume;
    const delta = intent.delta ?? null;
    // Zeros are left off the wire (docs/protocol.md §8): a 42 with neither field is volume 0.
    const target = intent.volume ?? (delta ? base + delta : 0);
    const n = ext.request(target, delta, source);
    core.event('set_volume', { volume: ext.target, delta, requested: true });
    return work(core.awaitVolumeReport(n));
  },

  /** `{"volume_report": n}`: the amplifier's real level, the speaker's volume from now on; Qobuz hears it. */
  reported(core: SessionCore, volume: number): Outcome {
    core.playback.volumeReported(volume);
    return core.active ? say(volumeChanged(core.playback.volume)) : NOTHING;
  },

  /** No report in time: nothing was applied, and the app hears the level the amplifier last reported. */
  reportTimedOut(core: SessionCore, n: number): Outcome {
    if (!core.playback.external?.timedOut(n)) return NOTHING;
    core.log.warn({ code: 'ERR_TIMEOUT' }, "no volume_report from the amplifier's automation in time: volume not applied");
    return core.active ? say(volumeChanged(core.playback.volume)) : NOTHING;
  },

  /** The speaker's volume or mute changed (at the speaker, or by another MPD client): the active renderer tells Qobuz. */
  speakerChanged(core: SessionCore, volumePercent: number, muted: boolean): Outcome {
    const changed = core.playback.speakerVolume(volumePercent, muted);
    if (!core.active) return NOTHING;
    return say(
      ...(changed.volume ? [volumeChanged(volumePercent)] : []),
      ...(changed.muted ? [volumeMuted(muted)] : []),
    );
  },
};
