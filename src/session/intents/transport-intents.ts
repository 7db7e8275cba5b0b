import type { AudioFormat, PlayableItem } from '../../core/player.js';
import type { PlayerCommand } from '../../core/player-view.js';
import { QcbError } from '../../core/qcb-error.js';
import { qconnect } from '../../protocol/generated/qconnect.js';
import { fileAudioQualityChanged, playbackError, rendererAction } from '../../protocol/renderer-messages.js';
import { NOTHING, say, inOrder, type Outcome } from '../outcome.js';
import type { Effect, SessionCore } from '../session-core.js';
import { keepEarlySetState } from './early-set-state.js';
import { itemOf, jumpKey, versionOf } from './wire-values.js';

const Action = qconnect.RndrSrvrRendererAction.ActionType;
const State = qconnect.PlayingState;

/**
 * The transport intents (docs/architecture.md "Intents"): what plays, from Qobuz (41) and from MQTT
 * (play, pause, toggle, stop, next, previous, seek), and what the speaker did on its own that Qobuz
 * must hear as the renderer's (another client's previous, a failed item, the real format). Each
 * decides and returns an Outcome: the frames it says and the state reports it caused, in order
 * (SessionCore.decide), and the speaker work.
 */
export const transportIntents = {
  /** §5.6: a 41 is a delta; apply what is present and answer at once, before any slow work. */
  setState(core: SessionCore, b: qconnect.SrvrRndrSetState): Outcome {
    return core.decide(() => setState(core, b));
  },

  /** MQTT `seek_ms` (checked by the verb). */
  seek(core: SessionCore, positionMs: number): Outcome {
    return core.decide(() => core.playback.seek(positionMs));
  },

  /**
   * The link dropped while we were the active renderer and the speaker still holds our item
   * (issue #21): the speaker is still ours to pause, stop or seek. The rejoin takes playback back
   * as it stands, and its state report tells Qobuz (docs/protocol.md §5.12).
   */
  ownsSpeakerWhileLinkDown(core: SessionCore): boolean {
    const current = core.playback.current;
    if (core.active || !core.activation.activeAtDrop || current === null) return false;
    const snap = core.speaker();
    return snap.source !== 'other' && snap.current?.queueItemId === current.queueItemId;
  },

  /**
   * A pause or stop may apply while we are not the active renderer (issue #21): the speaker is
   * still ours while the link is down (above), or our 63 waits for the service after a play that
   * asked for playback (the newest intent wins: the activation that follows takes over silent,
   * SessionActivation.hold).
   */
  silencesWhileInactive(core: SessionCore): boolean {
    if (core.active) return false;
    return core.activation.awaitingActivation || transportIntents.ownsSpeakerWhileLinkDown(core);
  },

  /** MQTT `action` (checked by the verb): without an active session, take playback back while still joined. */
  action(core: SessionCore, name: NonNullable<PlayerCommand['action']>): Outcome {
    return core.decide(() => action(core, name));
  },

  /** The speaker moved on to the next item by itself (gapless): Qobuz hears what plays now. */
  speakerTrackStarted(core: SessionCore, item: PlayableItem): Outcome {
    return core.decide(() => core.playback.speakerTrackStarted(item));
  },

  /** The speaker played the last item to its end. */
  speakerQueueEnded(core: SessionCore): Outcome {
    return core.decide(() => core.playback.speakerQueueEnded());
  },

  /** The speaker paused, played or stopped; another MPD client playing its own music: the speaker stepped aside, so do we (issue #16). */
  speakerStateChanged(core: SessionCore): Outcome {
    return core.decide(() =>
      core.speaker().source === 'other' ? core.speakerTakenByOther() : core.playback.speakerStateChanged(),
    );
  },

  /**
   * docs/protocol.md §9.4: MPD holds nothing before our current song (the first item), so another
   * client's `previous` restarts it; the restart is reported first, the service answers with a 41.
   */
  speakerRestarted(core: SessionCore): Outcome {
    const restart = core.decide(() => core.playback.speakerStateChanged());
    if (!core.active || !core.playback.current || !core.speaker().settled) return restart;
    core.log.info({ queueItemId: core.playback.current.queueItemId }, 'another MPD client asked for the previous song');
    return inOrder(restart, say(rendererAction(Action.PREVIOUS)));
  },

  /**
   * docs/protocol.md §9.4 (issue #23): MPD held our previous song before the current one and another
   * client's `previous` moved there. At any position it is the Qobuz previous: one 24 PREVIOUS, said
   * before the report of what plays so the service moves from the item it knows; its 41 is then
   * taken as MPD plays it.
   */
  speakerMovedBack(core: SessionCore, item: PlayableItem): Outcome {
    const snap = core.speaker();
    if (!snap.settled || snap.current?.queueItemId !== item.queueItemId) return NOTHING;
    const pb = core.playback;
    // The track change before it never reached the session (next, then previous at once): for Qobuz
    // nothing moved, the current item restarted; the speaker's window slid back without the session,
    // so it gets the item before again.
    if (pb.current?.queueItemId === item.queueItemId)
      return core.decide(() => {
        pb.speakerStateChanged();
        return pb.syncNeighbours();
      });
    const previous = core.active && pb.current !== null;
    if (!previous) return core.decide(() => pb.speakerMovedBack(item, false));
    core.log.info({ queueItemId: item.queueItemId }, 'another MPD client moved back to the previous song');
    return inOrder(say(rendererAction(Action.PREVIOUS)), core.decide(() => pb.speakerMovedBack(item, true)));
  },

  /** docs/protocol.md §5.8: a track that cannot be played is reported and skipped, never stalling the queue. */
  itemFailed(core: SessionCore, item: PlayableItem, reason: string): Outcome {
    core.log.warn({ queueItemId: item.queueItemId, trackId: item.trackId, reason }, 'item failed to play');
    core.event('playback_error', { queue_item_id: item.queueItemId, track_id: item.trackId, reason });
    if (!core.active || !core.playback.failureIsCurrent(item)) return NOTHING;
    return say(
      playbackError(core.queue.version, item.queueItemId, qconnect.ErrorType.TRACK_NOT_STREAMABLE),
      rendererAction(Action.NEXT),
    );
  },

  /** Issue #23: the output's format (what MPD plays after any resampling), not only the stream's. */
  formatChanged(core: SessionCore, f: AudioFormat): Outcome {
    if (!core.playback.speakerFormat(f, core.active)) return NOTHING;
    return say(
      fileAudioQualityChanged({
        samplingRateHz: f.sampleRateHz,
        bitDepth: f.bitDepth,
        channels: f.channels,
        audioQuality: qualityLevel(f),
      }),
    );
  },

  /** Where next / previous go; "previous" past the first seconds restarts the track, as every player does. Throws when there is none. */
  skipTarget(core: SessionCore, step: 1 | -1): PlayableItem | 'restart' {
    const current = core.playback.current;
    if (!current) throw new QcbError('ERR_BAD_COMMAND', 'nothing is playing');
    if (step === -1 && core.playback.positionNow() > 3000) return 'restart';
    const repeat = core.queue.repeat === 'all' ? 'all' : 'off';
    const target =
      step === 1 ? core.queue.next(current.queueItemId, repeat) : core.queue.previous(current.queueItemId, repeat);
    if (!target)
      throw new QcbError('ERR_BAD_COMMAND', step === 1 ? 'already at the end of the queue' : 'already at the start');
    return target;
  },
};

function setState(core: SessionCore, b: qconnect.SrvrRndrSetState): Effect {
  const pb = core.playback;
  const v = versionOf(b.queue_version);
  if (v) core.queueUpdates.noteVersion(v);
  const state = b.playing_state ?? 0;
  const hasState = state !== State.PLAYING_STATE_UNKNOWN;
  const hasPosition = b.current_position !== null && b.current_position !== undefined;
  const hint = b.next_track ? pb.resolve(itemOf(b.next_track)) : null;
  // §8 "Zero values": a seek to 0 loses its only field on the wire, so a 41 with nothing at all is that seek.
  const seekToZero = !v && !b.next_track && !b.current_track && !hasPosition && !hasState;
  if (seekToZero) {
    core.event('set_state', { playing_state: null, position_ms: 0, queue_item_id: null });
    return core.active && pb.current ? pb.seek(0) : null;
  }
  if (!b.current_track && !hasPosition && !hasState) {
    // Information only (version / next track): update, never answer (§5.6 feedback loop).
    return hint && pb.current ? pb.setNext(hint) : null;
  }
  core.event('set_state', {
    playing_state: hasState ? State[state] : null,
    position_ms: hasPosition ? b.current_position : null,
    queue_item_id: b.current_track ? (b.current_track.queue_item_id ?? 0) : null,
  });
  // After stepping aside for another MPD client, a play from the app takes the speaker back (issue #16).
  const plays = b.current_track
    ? (b.current_track.queue_item_id ?? 0) >= 0 && state !== State.STOPPED
    : state === State.PLAYING;
  if (!core.active && !(plays && core.activation.resumeAfterStepAside())) {
    keepEarlySetState(core, b);
    return null;
  }
  if (b.current_track) {
    const target = itemOf(b.current_track);
    if (target.queueItemId < 0 || state === State.STOPPED) return pb.stop();
    const item = pb.resolve(target);
    // A play that a pause or stop from MQTT superseded while the service was answering it stays paused.
    const play = state !== State.PAUSED && !core.verbs.heldPlay(jumpKey(target.queueItemId));
    return pb.load(item, b.current_position ?? 0, play, { next: hint ?? pb.nextAfter(item) });
  }
  if (hasPosition) {
    const status = state === State.PAUSED ? 'paused' : state === State.PLAYING ? 'playing' : undefined;
    if (state === State.STOPPED) return pb.stop();
    // A seek never cancels a track change on its way: the speaker applies it after the load.
    return pb.seek(b.current_position ?? 0, status);
  }
  if (state === State.STOPPED) return pb.stop();
  const playing = state === State.PLAYING;
  if (!pb.current) return playing ? core.activation.resumeFromPeers() : null;
  return pb.setPlaying(playing);
}

function action(core: SessionCore, name: NonNullable<PlayerCommand['action']>): Effect {
  const pb = core.playback;
  const silences = name === 'pause' || name === 'stop' || (name === 'toggle' && pb.status === 'playing');
  // A play of ours still waits for the service's 43: the pause or stop is the newer intent (issue #21).
  if (!core.active && silences) core.activation.hold(name === 'stop' ? 'stopped' : 'paused');
  if (!core.active && !silences && !core.activation.resumeAfterStepAside()) {
    // No active session: take playback back while still joined (the app sees us become active).
    core.activation.request();
    return null;
  }
  switch (name) {
    case 'play':
      return play(core);
    case 'pause':
      return pb.setPlaying(false);
    case 'toggle':
      return pb.status === 'playing' ? pb.setPlaying(false) : play(core);
    case 'stop':
      return pb.stop();
    case 'next':
    case 'previous': {
      const target = transportIntents.skipTarget(core, name === 'next' ? 1 : -1);
      return target === 'restart' ? pb.seek(0) : pb.load(target, 0, pb.status !== 'paused');
    }
  }
}

function play(core: SessionCore): Effect {
  const pb = core.playback;
  const current = pb.current;
  if (!current) {
    const first = core.queue.playOrder()[0];
    return first ? pb.load(first, 0, true) : null;
  }
  if (pb.status === 'stopped') return pb.load(current, 0, true, { next: pb.next });
  return pb.setPlaying(true);
}

/** AudioQuality level of what actually plays (docs/protocol.md §4): 16-bit ≤ 48 kHz CD, 24-bit ≤ 96 kHz HIRES_L1, above HIRES_L2. */
function qualityLevel(f: AudioFormat): number {
  if (f.bitDepth <= 16) return f.sampleRateHz <= 48_000 ? 2 : 3;
  return f.sampleRateHz <= 96_000 ? 3 : 4;
}
