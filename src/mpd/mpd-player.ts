import type { Logger } from 'pino';
import type {
  ItemTagsFor,
  LoadOptions,
  PlayableItem,
  Player,
  PlayerEvents,
  PlayerSnapshot,
  StreamUrlFor,
} from '../core/player.js';
import { QcbError, errorMessage, isQcbError } from '../core/qcb-error.js';
import type { MpdTap } from '../core/wire-tap.js';
import { SerialQueue } from '../util/serial-queue.js';
import { TypedEmitter } from '../util/typed-emitter.js';
import type { MpdClient } from './mpd-client.js';
import { MPD_RECONNECT_STEPS_MS, MpdConnection } from './mpd-connection.js';
import { MpdPlayerState, snapshotChanged } from './mpd-player-state.js';
import { MpdQueueWindow, type WindowEntry } from './mpd-queue-window.js';
import { reconcile } from './mpd-reconcile.js';
import { MpdWatcher } from './mpd-watcher.js';
import { readAudioPath } from './mpd-audio-config.js';
import { VolumeMapping, type VolumeRange } from './volume-mapping.js';

/** MPD's answer when the song it was told to start could not be opened or decoded. */
const STREAM_FAILED = /failed to (decode|open)/i;

/**
 * The `Player` port on MPD (issue #5). MPD's queue holds a two-entry window of the Qobuz
 * queue (mpd-queue-window.ts); unfiltered idle plus a light poll while playing keeps the
 * snapshot current (mpd-watcher.ts); a lost MPD is reconnected with backoff and the window
 * restored (mpd-connection.ts). Every MPD call, ours or the watcher's, runs through one
 * serial queue (docs/conventions.md principle 4).
 */

export interface MpdPlayerOptions {
  readonly host: string;
  readonly port: number;
  readonly password?: string;
  /** MPD range the Qobuz 0-100 volume maps onto (README.md "Configuration reference" `players[].volume`). */
  readonly volume: VolumeRange;
  readonly urlFor: StreamUrlFor;
  /**
   * Whether a song in MPD's queue is one we added (our stream route's `/stream/<player>/` URLs);
   * songs that are not ours are never removed (issue #16). Default: every song counts as ours.
   */
  readonly isOurs?: (uri: string) => boolean;
  /** Qobuz metadata for the tags every MPD client shows (issue #16); without it songs carry only `Name`. */
  readonly tagsFor?: ItemTagsFor;
  readonly logger: Logger;
  /** Default MPD_RECONNECT_STEPS_MS (250 ms … 5 s). */
  readonly reconnect?: { readonly stepsMs: readonly number[] };
  /** Per-command timeout, default 3000 ms. */
  readonly timeoutMs?: number;
  /** Sees every MPD command (README "Reporting a problem"). */
  readonly tap?: MpdTap;
  /** MPD's own config file, read for its outputs' formats and mixers (issue #23, `players[].mpd.config_file`); null: bit-perfectness unknown. */
  readonly configFile?: string | null;
}

type Resume = 'play' | 'pause' | 'none';

/** Past this far into a song, the stream's own tags have replaced ours if they were going to. */
const TAGS_SETTLED_MS = 1500;

/**
 * Transport commands by what makes them pointless: a load or stop makes every earlier transport
 * command pointless; a seek makes an earlier seek pointless; a play or pause an earlier one.
 */
type Transport = 'replace' | 'seek' | 'toggle';

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
  /** Generation of the newest transport command asked for, and of the newest one applied. */
  #requested = 0;
  #applied = 0;
  /**
   * Another MPD client plays its own songs: we stepped aside (issue #16) and drive MPD again only
   * when given an item (a load), or asked to play what we had (`play`).
   */
  #aside: { readonly current: PlayableItem | null; readonly next: PlayableItem | null } | null = null;
  /** Newest generation of each kind of transport command (see Transport). */
  readonly #newest: Record<Transport, number> = { replace: 0, seek: 0, toggle: 0 };
  readonly #configFile: string | null;

  constructor(options: MpdPlayerOptions) {
    if (!options.host) throw new QcbError('ERR_CONFIG_INVALID', 'MpdPlayer: host is required');
    if (!Number.isInteger(options.port) || options.port < 1 || options.port > 65535) {
      throw new QcbError('ERR_CONFIG_INVALID', `MpdPlayer: port must be 1-65535, got ${options.port}`);
    }
    if (typeof options.urlFor !== 'function')
      throw new QcbError('ERR_CONFIG_INVALID', 'MpdPlayer: urlFor is required');
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
        if (client && this.#available && !this.#aside && (await client.status()).state === 'play') await client.pause(true);
      })
      .catch((err: unknown) => this.#log.warn({ err: errorMessage(err) }, 'could not pause MPD on stop'));
    await this.#connection.stop();
    this.#available = false;
  }

  idle(): Promise<boolean> {
    return this.#queue.idle();
  }

  snapshot(): PlayerSnapshot {
    const settled = this.#applied === this.#requested;
    const snap = this.#state.snapshot(this.#window.current?.item ?? null, this.#available, settled);
    if (!this.#aside) return snap;
    // What the other client plays is not ours to report: stopped, nothing current.
    return { ...snap, status: 'stopped', positionMs: 0, durationMs: null, buffering: false, current: null, source: 'other' };
  }

  load(item: PlayableItem, options: LoadOptions): Promise<void> {
    const model = () => {
      this.#aside = null;
      this.#window.set(item, options.next);
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
      () => this.#window.set(this.#window.current?.item ?? null, next),
    );
  }

  play(): Promise<void> {
    // Qobuz plays again after another client took MPD: take it back with what we had.
    const had = this.#aside;
    if (had?.current) return this.load(had.current, { positionMs: 0, play: true, next: had.next });
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
        if (this.#state.pendingStartMs === null && !this.#aside) await client.pause(true);
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
        model();
        if (aside) return; // the other client's music plays on
        await client.stop();
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
    const model = () => {
      // Setting a volume also unmutes: the app's slider moves from the muted level.
      this.#state.mpdVolume = this.#volume.toMpd(volumePercent);
      this.#state.volumePercent = Math.min(100, Math.max(0, Math.round(volumePercent)));
      this.#state.muted = false;
      this.#state.unmuteMpdVolume = null;
    };
    return this.#command(
      'setVolume',
      async (client) => {
        model();
        await client.setVol(this.#state.mpdVolume ?? 0);
      },
      model,
    );
  }

  setMuted(muted: boolean): Promise<void> {
    const model = (): boolean => {
      const s = this.#state;
      if (s.muted === muted) return false;
      if (muted) {
        s.unmuteMpdVolume = s.mpdVolume;
        s.mpdVolume = this.#volume.mutedMpdVolume;
      } else {
        s.mpdVolume = s.unmuteMpdVolume ?? this.#volume.toMpd(s.volumePercent ?? 100);
        s.unmuteMpdVolume = null;
      }
      s.muted = muted;
      return true;
    };
    return this.#command(
      'setMuted',
      async (client) => {
        if (model()) await client.setVol(this.#state.mpdVolume ?? this.#volume.mutedMpdVolume);
      },
      () => void model(),
    );
  }

  /**
   * A transport command: it takes the next generation now, and when its turn in the queue comes
   * it is skipped if a newer command of a kind that covers it was asked for meanwhile
   * (docs/architecture.md "The newest intent wins"). A burst of seeks thus ends in one MPD seek.
   */
  #transport(
    kind: Transport,
    name: string,
    online: (client: MpdClient) => Promise<void>,
    offline: () => unknown,
  ): Promise<void> {
    const generation = ++this.#requested;
    this.#newest[kind] = generation;
    if (kind === 'replace') {
      this.#newest.seek = generation;
      this.#newest.toggle = generation;
    }
    const superseded = () => this.#newest.replace > generation || this.#newest[kind] > generation;
    return this.#command(name, online, offline, { generation, superseded });
  }

  /** Runs a command in the serial queue; while MPD is away it only updates what a reconnect restores. */
  #command(
    name: string,
    online: (client: MpdClient) => Promise<void>,
    offline: () => unknown,
    transport?: { readonly generation: number; readonly superseded: () => boolean },
  ): Promise<void> {
    return this.#queue.run(async () => {
      if (transport?.superseded()) {
        this.#log.debug({ command: name }, 'skipped: a newer command replaces it');
        this.#applied = transport.generation;
        return;
      }
      // Applied from here on: the snapshot the sync below emits is settled unless newer commands wait.
      const applied = () => {
        if (transport) this.#applied = transport.generation;
      };
      const client = this.#connection.client;
      if (client && this.#available) {
        try {
          await online(client);
          applied();
          await this.#sync(client, true);
          return;
        } catch (err) {
          applied();
          if (!isQcbError(err, 'ERR_MPD_UNREACHABLE') && !isQcbError(err, 'ERR_MPD_TIMEOUT')) {
            // MPD refused (e.g. a seek whose Range request failed): report what it did anyway.
            await this.#sync(client, true).catch(() => {});
            throw err;
          }
          this.#log.warn(
            { command: name, err: errorMessage(err) },
            'mpd lost during a command; kept for the reconnect',
          );
        }
      }
      offline();
      applied();
      this.#emitState(true);
    });
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

  async #startCurrent(client: MpdClient, positionMs: number): Promise<void> {
    const id = this.#window.current?.songId;
    if (id == null) return;
    this.#state.startBuffering(positionMs);
    try {
      if (positionMs > 0) await client.seekId(id, positionMs / 1000);
      else await client.playId(id);
    } catch (err) {
      // docs/protocol.md §9.2: a stream that fails fast (404) can fail inside `playid` itself. That is
      // the item failing, not the command: the sync that follows reads MPD's error and reports it.
      if (!STREAM_FAILED.test(errorMessage(err))) throw err;
      this.#log.debug({ err: errorMessage(err) }, 'the item failed as it started');
    }
  }

  /** Reads MPD's status and emits what changed: track changes, failures, queue end, format, volume, state. */
  async #sync(client: MpdClient, force: boolean, announce?: () => void): Promise<void> {
    const had = { current: this.#window.current?.item ?? null, next: this.#window.next?.item ?? null };
    const facts = await reconcile({ client, window: this.#window, state: this.#state, logger: this.#log, outside: !force });
    if (facts.some((f) => f.type === 'steppedAside')) this.#aside = had;
    if (this.#state.currentStarted && this.#window.current?.tagsKept === false)
      await this.#window.keepTags(client, this.#state.positionMs >= TAGS_SETTLED_MS);
    announce?.();
    // Emitted after the state is folded in, so listeners see a current snapshot.
    for (const fact of facts) {
      if (fact.type === 'trackStarted') this.events.emit('trackStarted', fact.item);
      else if (fact.type === 'itemFailed') this.events.emit('itemFailed', fact.item, fact.reason);
      else if (fact.type === 'queueEnded') this.events.emit('queueEnded');
      else if (fact.type === 'formatChanged') this.events.emit('formatChanged', fact.format);
      else if (fact.type === 'volumeChanged') this.events.emit('volumeChanged', fact.percent, fact.muted);
      else if (fact.type === 'previousRequested') this.events.emit('previousRequested');
    }
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
    const s = this.#state;
    await client.setPlaybackModesOff();
    await readAudioPath(client, this.#configFile, this.#state, this.#log);
    const st = await client.status();
    if (!this.#volume.fixed && st.volume !== null && s.mpdVolume !== null && st.volume !== s.mpdVolume)
      await client.setVol(s.mpdVolume);
    if (this.#window.current) {
      const wantPlay = this.#resume === 'play';
      const drift = Math.abs((st.elapsedSec ?? 0) * 1000 - s.positionMs);
      const adopted =
        (st.state === 'play') === wantPlay && drift < 3000 && (await this.#window.adopt(client, st));
      if (!adopted) {
        const positionMs = s.positionMs;
        s.resetTrack();
        await client.clearError();
        await this.#window.write(client);
        if (wantPlay) await this.#startCurrent(client, positionMs);
        else if (this.#resume === 'pause') s.pendingStartMs = positionMs;
      } else if (this.#resume === 'pause' && st.state === 'stop') {
        s.pendingStartMs = s.positionMs;
      }
      // Metadata that arrived while MPD was away (no-op for songs already fully tagged).
      for (const entry of [this.#window.current, this.#window.next]) if (entry) await this.#window.writeTags(client, entry);
      this.#log.info({ resume: this.#resume, positionMs: s.positionMs, adopted }, 'mpd window restored');
    }
    // Announced once MPD's state is folded in, so a listener's snapshot() is already current.
    await this.#sync(client, true, () => {
      this.#available = true;
      this.events.emit('availabilityChanged', true);
    });
  }

  #onLost(): void {
    if (!this.#available) return;
    const s = this.#state;
    const paused = s.pendingStartMs !== null || s.status === 'paused';
    const resume: Resume = !this.#window.current
      ? 'none'
      : s.status === 'playing'
        ? 'play'
        : paused
          ? 'pause'
          : 'none';
    if (s.pendingStartMs !== null) s.positionMs = s.pendingStartMs;
    s.freeze(Date.now());
    this.#available = false;
    this.#window.forgetSongIds();
    this.#watcher.cancelPoll();
    this.#offline(resume);
    this.events.emit('availabilityChanged', false);
    this.#emitState(true);
  }
}
