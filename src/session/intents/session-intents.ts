import type { OutgoingMessage } from '../../protocol/frame-writer.js';
import type { RepeatMode } from '../../core/player-view.js';
import { setPlayerState } from '../../protocol/controller-messages.js';
import { qconnect } from '../../protocol/generated/qconnect.js';
import {
  askForQueueState,
  askForRendererState,
  maxAudioQualityChanged,
  rendererAction,
  setActiveRenderer,
  stateUpdated,
  volumeChanged,
  volumeMuted,
} from '../../protocol/renderer-messages.js';
import { NOTHING, say, inOrder, type Outcome } from '../outcome.js';
import type { SessionCore } from '../session-core.js';
import type { ObserverVerb } from '../session-input.js';
import { takeEarlySetState } from './early-set-state.js';
import { transportIntents } from './transport-intents.js';

const Action = qconnect.RndrSrvrRendererAction.ActionType;

/**
 * The session intents (docs/architecture.md "Intents"): our place in the Qobuz session. Becoming
 * active (43, with the §5.4 burst) or not, joined (83 naming us), the app's quality ceiling (44),
 * shuffle and repeat asked of the service, the queue asked again, and the verbs the account's owner
 * and MQTT send on our link. Each decides and returns an Outcome, or the frames a verb carries.
 */
export const sessionIntents = {
  /** 43: active or not. Taking over says, in order (§5.4): mute, volume, max quality, the state at the position taken over, the queue ask. */
  setActive(core: SessionCore, active: boolean): Outcome {
    core.event('set_active', { active });
    if (!active) return core.decide(() => core.activation.deactivate());
    let took = false;
    const activation = core.decide(() => {
      const r = core.activation.activate();
      took = r.took;
      return r.effect;
    });
    if (!took) return activation;
    const pb = core.playback;
    const burst = say(
      volumeMuted(pb.muted),
      volumeChanged(pb.volume),
      maxAudioQualityChanged(pb.effectiveMaxQuality),
      stateUpdated(core.rendererReport()),
      askForQueueState(core.queue.version),
    );
    // A 41 that came before this 43 (early-set-state.ts) says what the pick plays.
    const early = takeEarlySetState(core);
    return inOrder(activation, burst, early ? transportIntents.setState(core, early) : NOTHING);
  },

  /** 83 naming us: joined. Ask for the queue and where the active renderer is before taking over (§5.2-§5.3). */
  joined(core: SessionCore, rendererId: number): Outcome {
    const joined = core.decide(() => core.joinedAs(rendererId));
    const ask = [askForQueueState(core.queue.version), askForRendererState(core.activeRendererId)];
    return inOrder(joined, say(...ask, ...(core.activation.wantsActive ? [setActiveRenderer(rendererId)] : [])));
  },

  /** 44: the app's quality ceiling; the app hears the one streams are asked for. */
  setMaxQuality(core: SessionCore, quality: number | null | undefined): Outcome {
    const pb = core.playback;
    const set = core.decide(() => pb.setSessionMaxQuality(quality ?? pb.sessionMaxQuality));
    const out = inOrder(set, say(maxAudioQualityChanged(pb.effectiveMaxQuality)));
    core.event('set_max_audio_quality', { max_audio_quality: pb.sessionMaxQuality });
    return out;
  },

  /** 45 from the app: the order comes from the service (§5.9), so ask for it rather than shuffling locally. */
  setShuffle(core: SessionCore, shuffle: boolean): Outcome {
    core.event('set_shuffle_mode', { shuffle });
    return shuffle !== core.queue.shuffle ? sessionIntents.resyncQueue(core) : NOTHING;
  },

  /** A queue delta we cannot apply (a gap, an order we cannot know): the full state is one message away (§6). */
  resyncQueue(core: SessionCore): Outcome {
    return say(askForQueueState(core.queue.version));
  },

  /** 88: the service refused a queue edit: the verb waiting for it fails, and the queue is read again from scratch. */
  queueError(core: SessionCore, actionUuid: Uint8Array | null | undefined, error: string | null | undefined): Outcome {
    core.log.info({ error }, 'queue error: resyncing the queue');
    const refused = core.decide(() => core.verbs.refused(actionUuid, error ?? 'queue error'));
    return inOrder(refused, say(askForQueueState(null)));
  },

  /** MQTT `shuffle` and `repeat` belong to the session: asked of the service, which tells every client (docs/protocol.md §4 ActionType). */
  requestShuffle(shuffle: boolean): Outcome {
    return say(rendererAction(shuffle ? Action.SHUFFLE_ON : Action.SHUFFLE_OFF));
  },
  requestRepeat(repeat: RepeatMode): Outcome {
    return say(
      rendererAction(repeat === 'one' ? Action.REPEAT_ONE : repeat === 'all' ? Action.REPEAT_ALL : Action.REPEAT_OFF),
    );
  },

  /** The account owner's verb on our joined link (session-watch.ts): make a renderer active, or play / pause the session. */
  observerVerb(v: ObserverVerb): Outcome {
    return say(v.type === 'setActiveRenderer' ? setActiveRenderer(v.rendererId) : setPlayerState({ playing: v.playing }));
  },

  /**
   * MQTT `play_item` (62 with the item; the service sends the active renderer a 41 playing it). With no
   * renderer active we take playback first (63 naming us, in the same batch), as `play` does.
   */
  jumpFrames(core: SessionCore, queueItemId: number): OutgoingMessage[] {
    const jump = setPlayerState({ playing: true, queueItemId });
    return core.activeRendererId < 0 && core.rendererId !== null ? [setActiveRenderer(core.rendererId), jump] : [jump];
  },

  /** `transfer` (README "Own Qobuz identity"): where the active renderer is, and the queue, as of now (77 then 76, answered in order). */
  sessionStateFrames(core: SessionCore, actionUuid: Uint8Array): OutgoingMessage[] {
    return [askForRendererState(core.activeRendererId), askForQueueState(core.queue.version, actionUuid)];
  },
};
