import type { Logger } from 'pino';
import type { LoadOptions, PlayableItem, Player, PlayerEvents, PlayerSnapshot } from '../core/player.js';
import { errorMessage } from '../core/qcb-error.js';
import { SerialQueue } from '../util/serial-queue.js';
import { TypedEmitter } from '../util/typed-emitter.js';
import type { MpdClient } from './mpd-client.js';
import { runMpdCommand, undoing, type MpdCommandHost, type MpdOnline } from './mpd-command.js';
import { MPD_RECONNECT_STEPS_MS, MpdConnection } from './mpd-connection.js';
import { checkMpdPlayerOptions, type MpdPlayerOptions } from './mpd-player-options.js';
import { MpdPlayerState, snapshotChanged } from './mpd-player-state.js';
import { MpdQueueWindow, type WindowEntry, type WindowItems } from './mpd-queue-window.js';
import { emitFacts, reconcile } from './mpd-reconcile.js';
import { MpdWatcher } from './mpd-watcher.js';
import { restoreSpeaker, resumeAtLoss, startCurrent, type Resume } from './mpd-restore.js';
import { TransportGate, type Transport, type TransportTicket } from './mpd-transport-gate.js';
import { VolumeMapping } from './volume-mapping.js';
import { readAudioPath } from './mpd-audio-config.js';

export type { MpdPlayerOptions } from './mpd-player-options.js';

/**
 * The `Player` port on MPD (issue #5). MPD's queue holds a window of the Qobuz queue: the
 * previous, current and next items (mpd-queue-window.ts); unfiltered idle plus a light poll while playing keeps the
 * snapshot current (mpd-watcher.ts); a lost MPD is reconnected with backoff and the window
 * restored (mpd-connection.ts). Every MPD call, ours or the watcher's, runs through one
 * serial queue (docs/conventions.md principle 4).
 */

/** Past this far into a song, the stream's own tags have replaced ours if they were going to. */
const TAGS_SETTLED_MS = 1500;

export class MpdPlayer implements Player {
  readonly events: TypedEmitter<PlayerEvents>;
  readonly #log: Logger;
  readonly #queue = new SerialQueue();
  readonly #connection: MpdConnection;
  readonly #volume: VolumeMapping;
  readonly #window: MpdQueueWindow;
  readonly #state: MpdPlayerState;
  readonly #watcher: MpdWatcher;
  #available = false;
  #lastEmitted: PlayerSnapshot | null = null;
  /** What to bring back after a reconnect; kept up to date while MPD is away. */
  #resume: Resume = 'none';
  readonly #gate = new TransportGate();
  /**
   * Another MPD client plays its own songs: we stepped aside (issue #16) and drive MPD again only
   * when given an item (a load), or asked to play what we had (`play`).
   */
  #aside: WindowItems | null = null;
  readonly #configFile: string | null;
  /** What a command needs of this player (mpd-command.ts). */
  readonly #commands: MpdCommandHost;

  constructor(options: MpdPlayerOptions) {
    checkMpdPlayerOptions(options);
    this.#log = options.logger.child({ module: 'mpd', mpd: `${options.host}:${options.port}` });
    this.events = new TypedEmitter<PlayerEvents>((err, event) =>
      this.#log.error({ err: errorMessage(err), event }, 'player listener threw'),
    );
    this.#volume = new VolumeMapping(options.volume);
    this.#configFile = options.configFile ?? null;
    const tagsFor = options.tagsFor;
    this.#window = new MpdQueueWindow(
      options.urlFor,
      tagsFor ? { tagsFor, arrived: (entry) => this.#tagsArrived(entry) } : null,
      options.isOurs ?? (() => true),
    );
    this.#state = new MpdPlayerState(this.#volume);
    this.#connection = new MpdConnection({
      host: options.host,
      port: options.port,
      password: options.password,
      timeoutMs: options.timeoutMs ?? 3000,
      stepsMs: options.reconnect?.stepsMs ?? MPD_RECONNECT_STEPS_MS,
      logger: this.#log,
      ...(options.tap ? { tap: options.tap } : {}),
    });
    this.#watcher = new MpdWatcher({
      queue: this.#queue,
      logger: this.#log,
      client: () => (this.#available ? this.#connection.client : null),
      sync: (client) => this.#sync(client, false),
      pollDelayMs: () => (this.#state.status !== 'playing' ? null : this.#state.buffering ? 150 : 1000),
    });
    this.#commands = {
      queue: this.#queue,
      gate: this.#gate,
      log: this.#log,
      client: () => (this.#available ? this.#connection.client : null),
      sync: (client, force) => this.#sync(client, force),
      emitState: (force) => this.#emitState(force),
    };
    this.#connection.events.on('connected', (client) => this.#onConnected(client));
    this.#connection.events.on('lost', () => this.#onLost());
  }

  async start(): Promise<void> {
    this.#watcher.start();
    await this.#connection.start();
    await this.#queue.idle();
  }

  async stop(): Promise<void> {
    this.#watcher.stop();
    await this.#queue
      .run(async () => {
        const client = this.#connection.client;
        // Leave the speaker paused with its queue, not cleared (Player.stop contract).
        if (client && this.#available && this.#ours() && (await client.status()).state === 'play') await client.pause(true);
      })
      .catch((err: unknown) => this.#log.warn({ err: errorMessage(err) }, 'could not pause MPD on stop'));
    await this.#connection.stop();
    this.#available = false;
  }

  /**
   * Whether what MPD holds is our window. Not with nothing of ours loaded, nor once stepped aside
   * for another client: then what MPD plays is not ours to pause, stop or report (issue #16).
   */
  #ours(): boolean {
    return this.#window.current !== null && this.#aside === null;
  }

  idle(): Promise<boolean> {
    return this.#queue.idle();
  }

  snapshot(): PlayerSnapshot {
    const settled = this.#gate.settled;
    const snap = this.#state.snapshot(this.#window.current?.item ?? null, this.#available, settled);
    // Nothing of ours loaded and MPD playing all the same: another client's music (issue #16).
    if (this.#ours() || (!this.#aside && snap.status === 'stopped')) return snap;
    // What the other client plays is not ours to report: stopped, nothing current.
    return { ...snap, status: 'stopped', positionMs: 0, durationMs: null, buffering: false, current: null, source: 'other' };
  }

  load(item: PlayableItem, options: LoadOptions): Promise<void> {
    const model = () => {
      this.#aside = null;
      this.#window.set(item, options.next, options.previous ?? null);
      this.#state.resetTrack();
      this.#state.format = null;
      this.#state.positionMs = Math.max(0, options.positionMs);
      this.#state.atMs = Date.now();
    };
    return this.#transport(
      'replace',
      'load',
      async (client) => {
        model();
        await client.clearError();
        await client.setPlaybackModesOff();
        await this.#window.write(client);
        if (options.play) await this.#startCurrent(client, this.#state.positionMs);
        else this.#state.pendingStartMs = this.#state.positionMs;
      },
      () => {
        model();
        this.#offline(options.play ? 'play' : 'pause');
      },
    );
  }

  setNext(next: PlayableItem | null): Promise<void> {
    return this.#command(
      'setNext',
      async (client) => {
        if (!this.#window.hasNext(next)) await this.#window.writeNext(client, next);
      },
      () => this.#window.set(this.#window.current?.item ?? null, next, this.#window.previous?.item ?? null),
    );
  }

  setPrevious(previous: PlayableItem | null): Promise<void> {
    return this.#command(
      'setPrevious',
      async (client) => {
        if (!this.#window.hasPrevious(previous)) await this.#window.writePrevious(client, previous);
      },
      () => this.#window.set(this.#window.current?.item ?? null, this.#window.next?.item ?? null, previous),
    );
  }

  play(): Promise<void> {
    // Qobuz plays again after another client took MPD: take it back with what we had.
    const had = this.#aside;
    if (had?.current) return this.load(had.current, { positionMs: 0, play: true, next: had.next, previous: had.previous });
    return this.#transport(
      'toggle',
      'play',
      async (client) => {
        if (!this.#window.current) return;
        if (this.#state.pendingStartMs !== null)
          return this.#startCurrent(client, this.#state.pendingStartMs);
        // `pause 0` first: a paused MPD plays one round trip after the command. MPD ignores it when
        // stopped, and the status after it tells whether the song must be started instead.
        await client.pause(false);
        if ((await client.status()).state === 'stop') {
          this.#state.resetTrack();
          await this.#startCurrent(client, 0);
        }
      },
      () => this.#window.current && this.#offline('play'),
    );
  }

  pause(): Promise<void> {
    return this.#transport(
      'toggle',
      'pause',
      async (client) => {
        // `pause 1` is a no-op on a paused or stopped MPD: no status round trip before it. Never
        // pauses another client's music.
        if (this.#state.pendingStartMs === null && this.#ours()) await client.pause(true);
      },
      () => this.#resume === 'play' && this.#offline('pause'),
    );
  }

  stopPlayback(): Promise<void> {
    const model = () => {
      this.#window.set(null, null);
      this.#state.resetTrack();
      this.#state.format = null;
      this.#state.positionMs = 0;
    };
    return this.#transport(
      'replace',
      'stopPlayback',
      async (client) => {
        const aside = this.#aside !== null;
        const loaded = this.#window.current !== null;
        model();
        if (aside) return; // the other client's music plays on
        // Nothing loaded: what MPD plays is another client's; only songs of ours (from before a restart) go.
        if (loaded) await client.stop();
        await this.#window.removeOurs(client);
      },
      () => {
        model();
        this.#offline('none');
      },
    );
  }

  seek(positionMs: number): Promise<void> {
    const ms = Math.max(0, Math.round(positionMs));
    return this.#transport(
      'seek',
      'seek',
      async (client) => {
        if (!this.#window.current) return;
        const st = await client.status();
        if (this.#state.pendingStartMs !== null || st.state === 'stop') {
          this.#state.pendingStartMs = ms;
          return;
        }
        if (st.state === 'play') this.#state.startBuffering(ms);
        await client.seekCur(ms / 1000);
      },
      () => {
        this.#state.positionMs = ms;
      },
    );
  }

  setVolume(volumePercent: number): Promise<void> {
    return this.#command(
      'setVolume',
      async (client) => {
        const undo = this.#state.volumeMark();
        this.#state.wantVolume(volumePercent);
        await client.setVol(this.#state.mpdVolume ?? 0).catch(undoing(undo));
      },
      () => this.#state.wantVolume(volumePercent),
    );
  }

  setMuted(muted: boolean): Promise<void> {
    return this.#command(
      'setMuted',
      async (client) => {
        const undo = this.#state.volumeMark();
        if (this.#state.wantMuted(muted))
          await client.setVol(this.#state.mpdVolume ?? this.#volume.mutedMpdVolume).catch(undoing(undo));
      },
      () => this.#state.wantMuted(muted),
    );
  }

  /** A transport command (TransportGate): skipped in its turn when a newer one makes it pointless. */
  #transport(kind: Transport, name: string, online: MpdOnline, offline: () => unknown): Promise<void> {
    return this.#command(name, online, offline, this.#gate.begin(kind));
  }

  /** Runs a command in the serial queue; while MPD is away it only updates what a reconnect restores (mpd-command.ts). */
  #command(name: string, online: MpdOnline, offline: () => unknown, transport?: TransportTicket): Promise<void> {
    return runMpdCommand(this.#commands, name, online, offline, transport);
  }

  /** Metadata arrived after the song went into MPD: tag it in its turn (no state to report). */
  #tagsArrived(entry: WindowEntry): void {
    this.#queue
      .run(async () => {
        const client = this.#connection.client;
        if (client && this.#available) await this.#window.writeTags(client, entry);
      })
      .catch((err: unknown) => this.#log.debug({ err: errorMessage(err) }, 'could not tag an MPD song'));
  }

  /** Offline model of the playback intent: shown as paused (nothing plays), restored as `resume`. */
  #offline(resume: Resume): void {
    this.#resume = this.#window.current ? resume : 'none';
    this.#state.status = this.#resume === 'none' ? 'stopped' : 'paused';
    this.#state.pendingStartMs = null;
  }

  #startCurrent(client: MpdClient, positionMs: number): Promise<void> {
    return startCurrent(client, this.#window, this.#state, positionMs, this.#log);
  }

  /** Reads MPD's status and emits what changed: track changes, failures, queue end, format, volume, state. */
  async #sync(client: MpdClient, force: boolean, announce?: () => void): Promise<void> {
    const had = this.#window.items();
    const facts = await reconcile({ client, window: this.#window, state: this.#state, logger: this.#log, outside: !force });
    if (facts.some((f) => f.type === 'steppedAside')) this.#aside = had;
    if (this.#state.currentStarted && this.#window.current?.tagsKept === false)
      await this.#window.keepTags(client, this.#state.positionMs >= TAGS_SETTLED_MS);
    announce?.();
    // Emitted after the state is folded in, so listeners see a current snapshot.
    emitFacts(this.events, facts);
    const changedTrack = facts.some((f) => f.type !== 'formatChanged' && f.type !== 'volumeChanged');
    this.#emitState(force || changedTrack);
    this.#watcher.schedulePoll();
  }

  #emitState(force: boolean): void {
    const snap = this.snapshot();
    if (!force && !snapshotChanged(this.#lastEmitted, snap)) return;
    this.#lastEmitted = snap;
    this.events.emit('stateChanged', snap);
  }

  #onConnected(client: MpdClient): void {
    this.#watcher.attach(client);
    // An output switched on or off (`mpc enable`) changes what the DAC gets (issue #23).
    client.events.on('changed', (subsystem) => {
      if (subsystem !== 'output' || !this.#configFile) return;
      this.#queue
        .run(async () => {
          if (client !== this.#connection.client || !this.#available) return;
          await readAudioPath(client, this.#configFile, this.#state, this.#log);
          await this.#sync(client, false);
        })
        .catch((err: unknown) => this.#log.debug({ err: errorMessage(err) }, 'could not read MPD outputs'));
    });
    this.#queue
      .run(() => this.#restore(client))
      .catch((err: unknown) => {
        this.#log.warn({ err: errorMessage(err) }, 'mpd restore failed; reconnecting');
        void client.close();
      });
  }

  /** After (re)connecting: our volume, our window, and playback where it was at the loss. */
  async #restore(client: MpdClient): Promise<void> {
    if (client !== this.#connection.client) return;
    await readAudioPath(client, this.#configFile, this.#state, this.#log);
    await restoreSpeaker({
      client,
      window: this.#window,
      state: this.#state,
      volume: this.#volume,
      resume: this.#resume,
      startCurrent: (c, positionMs) => this.#startCurrent(c, positionMs),
      logger: this.#log,
    });
    // Announced once MPD's state is folded in, so a listener's snapshot() is already current.
    await this.#sync(client, true, () => {
      this.#available = true;
      this.events.emit('availabilityChanged', true);
    });
  }

  #onLost(): void {
    if (!this.#available) return;
    const resume = resumeAtLoss(this.#state, this.#window.current !== null);
    this.#available = false;
    this.#window.forgetSongIds();
    this.#watcher.cancelPoll();
    this.#offline(resume);
    this.events.emit('availabilityChanged', false);
    this.#emitState(true);
  }
}
