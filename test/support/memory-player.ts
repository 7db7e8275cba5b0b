import type { AudioFormat, LoadOptions, PlayableItem, Player, PlayerEvents, PlayerSnapshot } from '../../src/core/player.js';
import { TypedEmitter } from '../../src/util/typed-emitter.js';

/**
 * An in-memory Player for session tests (issue #4): it keeps time with the given clock and
 * does what it is told; tests drive what a speaker would do by itself (end a track, fail an
 * item, be paused by another client) with the methods below. Every call is recorded.
 */
export class MemoryPlayer implements Player {
  readonly events = new TypedEmitter<PlayerEvents>();
  readonly calls: Array<{ op: string; args: unknown[] }> = [];
  #status: PlayerSnapshot['status'] = 'stopped';
  #positionMs = 0;
  #atMs: number;
  #current: PlayableItem | null = null;
  #next: PlayableItem | null = null;
  #previous: PlayableItem | null = null;
  #volume = 50;
  #muted = false;
  #available = true;
  #buffering = false;
  durationMs: number | null = 180_000;
  format: AudioFormat = { sampleRateHz: 44_100, bitDepth: 16, channels: 2 };

  constructor(private readonly now: () => number = Date.now) {
    this.#atMs = now();
  }

  async start(): Promise<void> {}
  async stop(): Promise<void> {
    this.calls.push({ op: 'stop', args: [] });
    if (this.#status === 'playing') this.#set('paused', this.#position());
  }

  async load(item: PlayableItem, o: LoadOptions): Promise<void> {
    this.calls.push({ op: 'load', args: [item, o] });
    this.#current = item;
    this.#next = o.next;
    this.#previous = o.previous ?? null;
    this.#buffering = true;
    this.#set(o.play ? 'playing' : 'paused', o.positionMs);
    // Audio flows at once in memory: buffering ends on the next tick, as a real player's would later.
    queueMicrotask(() => {
      this.#buffering = false;
      this.#set(this.#status, this.#positionMs);
      this.events.emit('formatChanged', this.format);
    });
  }

  async setNext(next: PlayableItem | null): Promise<void> {
    this.calls.push({ op: 'setNext', args: [next] });
    this.#next = next;
  }
  async setPrevious(previous: PlayableItem | null): Promise<void> {
    this.calls.push({ op: 'setPrevious', args: [previous] });
    this.#previous = previous;
  }
  async play(): Promise<void> {
    this.calls.push({ op: 'play', args: [] });
    if (this.#current) this.#set('playing', this.#position());
  }
  async pause(): Promise<void> {
    this.calls.push({ op: 'pause', args: [] });
    if (this.#status === 'playing') this.#set('paused', this.#position());
  }
  async stopPlayback(): Promise<void> {
    this.calls.push({ op: 'stopPlayback', args: [] });
    this.#current = null;
    this.#set('stopped', 0);
  }
  async seek(positionMs: number): Promise<void> {
    this.calls.push({ op: 'seek', args: [positionMs] });
    this.#set(this.#status, positionMs);
  }
  async setVolume(volumePercent: number): Promise<void> {
    this.calls.push({ op: 'setVolume', args: [volumePercent] });
    this.#volume = volumePercent;
  }
  async setMuted(muted: boolean): Promise<void> {
    this.calls.push({ op: 'setMuted', args: [muted] });
    this.#muted = muted;
  }

  /** Every command is applied as it is called: nothing to wait for. */
  async idle(): Promise<boolean> {
    return false;
  }

  snapshot(): PlayerSnapshot {
    return {
      status: this.#status,
      positionMs: this.#positionMs,
      atMs: this.#atMs,
      durationMs: this.#current ? this.durationMs : null,
      current: this.#current,
      buffering: this.#buffering,
      // Every command is applied as it is called.
      settled: true,
      volumePercent: this.#volume,
      muted: this.#muted,
      format: this.#current ? this.format : null,
      available: this.#available,
    };
  }

  /** Position now, extrapolated while playing. */
  positionMs(): number {
    return this.#position();
  }
  get current(): PlayableItem | null {
    return this.#current;
  }
  get next(): PlayableItem | null {
    return this.#next;
  }
  get previous(): PlayableItem | null {
    return this.#previous;
  }
  get status(): PlayerSnapshot['status'] {
    return this.#status;
  }
  get volume(): number {
    return this.#volume;
  }

  /** The current track ends: move to the queued next item (gapless) or stop. */
  finishTrack(): void {
    if (this.#next) {
      this.#previous = this.#current;
      this.#current = this.#next;
      this.#next = null;
      this.#set('playing', 0);
      this.events.emit('trackStarted', this.#current);
    } else {
      this.#current = null;
      this.#set('stopped', 0);
      this.events.emit('queueEnded');
    }
  }
  /** Another client's `previous` (issue #23): back to the previous item, from its start. */
  movedBack(): void {
    if (!this.#previous || !this.#current) return;
    this.#next = this.#current;
    this.#current = this.#previous;
    this.#previous = null;
    this.#set('playing', 0);
    this.events.emit('previousStarted', this.#current);
  }
  /** Someone paused or resumed at the speaker (another MPD client, a button). */
  externally(status: 'playing' | 'paused'): void {
    this.#set(status, this.#position());
  }
  externalVolume(volume: number, muted = this.#muted): void {
    this.#volume = volume;
    this.#muted = muted;
    this.events.emit('volumeChanged', volume, muted);
  }
  failCurrent(reason = 'CURL failed: 404'): void {
    if (this.#current) this.events.emit('itemFailed', this.#current, reason);
  }
  setAvailable(available: boolean): void {
    this.#available = available;
    this.events.emit('availabilityChanged', available);
  }

  #position(): number {
    return this.#status === 'playing' && !this.#buffering ? this.#positionMs + (this.now() - this.#atMs) : this.#positionMs;
  }
  #set(status: PlayerSnapshot['status'], positionMs: number): void {
    this.#status = status;
    this.#positionMs = positionMs;
    this.#atMs = this.now();
    this.events.emit('stateChanged', this.snapshot());
  }
}
