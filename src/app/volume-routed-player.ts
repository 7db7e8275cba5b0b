import type { Logger } from 'pino';
import type { LoadOptions, PlayableItem, Player, PlayerEvents, PlayerSnapshot } from '../core/player.js';
import { errorMessage } from '../core/qcb-error.js';
import type { VolumeControl } from '../core/volume-control.js';
import { TypedEmitter } from '../util/typed-emitter.js';

/**
 * A player whose volume lives elsewhere (README "Volume modes", `snapcast`): playback is the
 * player's (MPD), volume and mute are the VolumeControl's (a Snapcast group). The session sees
 * one Player and needs no mode of its own: its volume commands reach Snapcast, and Snapcast's
 * changes arrive as the speaker's `volumeChanged`, reported to Qobuz and MQTT like a knob turned
 * on the speaker (docs/architecture.md "Snapcast"). MPD's own volume events are dropped.
 */
export class VolumeRoutedPlayer implements Player {
  readonly events: TypedEmitter<PlayerEvents>;
  readonly #player: Player;
  readonly #volume: VolumeControl;

  constructor(player: Player, volume: VolumeControl, logger: Logger) {
    this.#player = player;
    this.#volume = volume;
    this.events = new TypedEmitter<PlayerEvents>((err, event) =>
      logger.error({ err: errorMessage(err), event }, 'player listener threw'),
    );
    const forward = <K extends keyof PlayerEvents & string>(event: K) =>
      player.events.on(event, (...args: PlayerEvents[K]) => this.events.emit(event, ...args));
    forward('trackStarted');
    forward('queueEnded');
    // The snapshot carries the volume too: the routed one, never MPD's.
    player.events.on('stateChanged', () => this.events.emit('stateChanged', this.snapshot()));
    forward('previousRequested');
    forward('previousStarted');
    forward('formatChanged');
    forward('itemFailed');
    forward('availabilityChanged');
    volume.events.on('volumeChanged', (percent, muted) => this.events.emit('volumeChanged', percent, muted));
  }

  async start(): Promise<void> {
    await Promise.all([this.#volume.start(), this.#player.start()]);
  }

  async stop(): Promise<void> {
    await Promise.all([this.#player.stop(), this.#volume.stop()]);
  }

  load(item: PlayableItem, options: LoadOptions): Promise<void> {
    return this.#player.load(item, options);
  }

  setNext(next: PlayableItem | null): Promise<void> {
    return this.#player.setNext(next);
  }

  setPrevious(previous: PlayableItem | null): Promise<void> {
    return this.#player.setPrevious(previous);
  }

  play(): Promise<void> {
    return this.#player.play();
  }

  pause(): Promise<void> {
    return this.#player.pause();
  }

  stopPlayback(): Promise<void> {
    return this.#player.stopPlayback();
  }

  seek(positionMs: number): Promise<void> {
    return this.#player.seek(positionMs);
  }

  setVolume(volumePercent: number): Promise<void> {
    return this.#volume.setVolume(volumePercent);
  }

  setMuted(muted: boolean): Promise<void> {
    return this.#volume.setMuted(muted);
  }

  snapshot(): PlayerSnapshot {
    const v = this.#volume.snapshot();
    return { ...this.#player.snapshot(), volumePercent: v.volumePercent, muted: v.muted };
  }

  idle(): Promise<boolean> {
    return this.#player.idle();
  }
}
