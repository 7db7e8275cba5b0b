import type { Logger } from 'pino';
import { QcbError, errorMessage } from '../core/qcb-error.js';
import type { MpdExchange, RestExchange, WireDirection, WireTap } from '../core/wire-tap.js';
import type { Redactor } from '../util/redactor.js';
import { BoundedRing } from './bounded-ring.js';
import type { WireRecord } from './wire-record.js';
import { WireRecorder } from './wire-recorder.js';
import { WireRenderer } from './wire-renderer.js';

/**
 * Everything the bridge keeps to explain a failure (README "Reporting a problem",
 * docs/architecture.md "Diagnostics"): per player, rings of the recent QConnect messages, REST
 * calls and MPD commands, and of MPD statuses, kept always and cheaply (raw, redacted only when
 * a bundle is built); and the wire recorder, off unless asked, which redacts and writes each
 * event as it happens. Fed through the wire taps the composition root hands the adapters.
 */

interface RecordingOptions {
  /** Record every player from the start. */
  readonly all: boolean;
  readonly file: string;
  readonly maxBytes: number;
  readonly files: number;
}

export interface DiagnosticsOptions {
  readonly players: readonly string[];
  readonly recording: RecordingOptions;
  readonly redactor: Redactor;
  readonly logger: Logger;
  /** The ring of recent log lines the root logger tees into (main.ts); a fresh one by default. */
  readonly logLines?: BoundedRing<string>;
  readonly now?: () => number;
}

/** Ring sizes: "the last few hundred frames" per player, bounded in bytes too. */
const RING_FRAMES = 300;
const RING_FRAME_BYTES = 2 * 1024 * 1024;
const RING_CALLS = 200;
const RING_STATUSES = 50;
const RING_LOG_LINES = 500;
const RING_LOG_BYTES = 1024 * 1024;

type RingEvent =
  | { readonly kind: 'qconnect'; readonly atMs: number; readonly dir: WireDirection; readonly bytes: Uint8Array }
  | { readonly kind: 'rest'; readonly atMs: number; readonly exchange: RestExchange }
  | { readonly kind: 'mpd'; readonly atMs: number; readonly exchange: MpdExchange };

interface PlayerRings {
  readonly frames: BoundedRing<RingEvent>;
  readonly calls: BoundedRing<RingEvent>;
  readonly statuses: BoundedRing<{ readonly atMs: number; readonly status: Readonly<Record<string, unknown>> }>;
}

/** A log ring sized for the bundle, for main.ts to tee the root logger into before the bridge exists. */
export function newLogRing(): BoundedRing<string> {
  return new BoundedRing<string>(RING_LOG_LINES, RING_LOG_BYTES);
}

export class Diagnostics {
  readonly logLines: BoundedRing<string>;
  readonly renderer: WireRenderer;
  readonly #o: DiagnosticsOptions;
  readonly #now: () => number;
  readonly #rings = new Map<string, PlayerRings>();
  readonly #recording = new Set<string>();
  #recorder: WireRecorder | null = null;

  constructor(options: DiagnosticsOptions) {
    this.#o = options;
    this.#now = options.now ?? Date.now;
    this.logLines = options.logLines ?? newLogRing();
    this.renderer = new WireRenderer(options.redactor);
    for (const id of options.players) {
      this.#rings.set(id, {
        frames: new BoundedRing(RING_FRAMES, RING_FRAME_BYTES),
        calls: new BoundedRing(RING_CALLS),
        statuses: new BoundedRing(RING_STATUSES),
      });
    }
  }

  /** Opens the recording when the config asks for it from the start (a bad path: one warning, recording off). */
  async start(): Promise<void> {
    if (!this.#o.recording.all) return;
    try {
      for (const id of this.#o.players) await this.setRecording(id, true);
    } catch (err) {
      this.#o.logger.warn({ err: errorMessage(err), file: this.#o.recording.file }, 'wire recording could not start');
    }
  }

  async stop(): Promise<void> {
    const recorder = this.#recorder;
    this.#recorder = null;
    this.#recording.clear();
    await recorder?.close();
  }

  /**
   * Turns recording on or off for one player (the MQTT `record` command, README "MQTT topics").
   * Rejects with ERR_RECORDER when the file cannot be opened: nothing else changes then.
   */
  async setRecording(player: string, on: boolean): Promise<void> {
    if (!this.#rings.has(player)) throw new QcbError('ERR_BAD_COMMAND', `unknown player ${player}`);
    if (!on) {
      this.#recording.delete(player);
      if (this.#recording.size === 0) await this.#closeRecorder();
      return;
    }
    if (!this.#recorder || this.#recorder.failed) {
      const r = this.#o.recording;
      const recorder = new WireRecorder({
        file: r.file,
        maxBytes: r.maxBytes,
        files: r.files,
        logger: this.#o.logger,
        onFailed: () => {
          if (this.#recorder === recorder) this.#recording.clear();
        },
      });
      try {
        await recorder.open();
      } catch (err) {
        throw new QcbError('ERR_RECORDER', `cannot record to ${r.file}: ${errorMessage(err)}`);
      }
      this.#recorder = recorder;
    }
    if (!this.#recording.has(player)) this.#o.logger.info({ player, file: this.#o.recording.file }, 'wire recording on');
    this.#recording.add(player);
  }

  isRecording(player: string): boolean {
    return this.#recording.has(player);
  }

  /** What the bundle says of the recorder. */
  recorderState(): { file: string; players: string[]; failed: boolean; dropped: number } {
    return {
      file: this.#o.recording.file,
      players: [...this.#recording],
      failed: this.#recorder?.failed ?? false,
      dropped: this.#recorder?.dropped ?? 0,
    };
  }

  /** Resolves once every record so far is on disk: a test seam (shutdown closes the recorder, which flushes). */
  async flush(): Promise<void> {
    await this.#recorder?.flush();
  }

  /** The taps of one player's adapters: each event goes to the rings and, when recording, to the file. */
  tapFor(player: string): WireTap {
    const rings = this.#rings.get(player);
    if (!rings) throw new QcbError('ERR_BAD_COMMAND', `unknown player ${player}`);
    return {
      qconnect: (dir, bytes) => {
        const atMs = this.#now();
        // A copy: the socket's buffer may be a slice of a larger one we must not keep alive.
        const copy = Uint8Array.from(bytes);
        rings.frames.push({ kind: 'qconnect', atMs, dir, bytes: copy }, copy.byteLength);
        if (this.#recording.has(player)) this.#record(() => this.renderer.qconnect(player, dir, copy, atMs));
      },
      rest: (exchange) => {
        const atMs = this.#now();
        rings.calls.push({ kind: 'rest', atMs, exchange });
        if (this.#recording.has(player)) this.#record(() => this.renderer.rest(player, exchange, atMs));
      },
      mpd: (exchange) => {
        const atMs = this.#now();
        if (exchange.status) rings.statuses.push({ atMs, status: exchange.status });
        else rings.calls.push({ kind: 'mpd', atMs, exchange });
        if (this.#recording.has(player)) this.#record(() => this.renderer.mpd(player, exchange, atMs));
      },
    };
  }

  /** The recent QConnect messages of a player, redacted now, oldest first. */
  recentFrames(player: string): WireRecord[] {
    return (this.#rings.get(player)?.frames.toArray() ?? []).map((e) => this.#render(player, e));
  }

  /** The recent REST calls and MPD commands of a player (MPD statuses apart), redacted, oldest first. */
  recentCalls(player: string): WireRecord[] {
    return (this.#rings.get(player)?.calls.toArray() ?? []).map((e) => this.#render(player, e));
  }

  recentStatuses(player: string): unknown[] {
    return (this.#rings.get(player)?.statuses.toArray() ?? []).map((s) => ({
      at: new Date(s.atMs).toISOString(),
      status: this.renderer.value(s.status),
    }));
  }

  /** The recent log lines, parsed where they are JSON, scrubbed once more (a secret may be newer than the line). */
  recentLogLines(): unknown[] {
    return this.logLines.toArray().map((line) => {
      const text = this.#o.redactor.scrubStrictString(line.trimEnd());
      try {
        return JSON.parse(text) as unknown;
      } catch {
        return text;
      }
    });
  }

  #render(player: string, e: RingEvent): WireRecord {
    if (e.kind === 'qconnect') return this.renderer.qconnect(player, e.dir, e.bytes, e.atMs);
    if (e.kind === 'rest') return this.renderer.rest(player, e.exchange, e.atMs);
    return this.renderer.mpd(player, e.exchange, e.atMs);
  }

  #record(render: () => WireRecord): void {
    const recorder = this.#recorder;
    if (!recorder || recorder.failed) return;
    let record: WireRecord;
    try {
      record = render();
    } catch (err) {
      // Rendering is ours and should not fail; if it does, the event is lost, the player is not.
      this.#o.logger.debug({ err: errorMessage(err) }, 'wire record not rendered');
      return;
    }
    recorder.write(record);
  }

  async #closeRecorder(): Promise<void> {
    const recorder = this.#recorder;
    this.#recorder = null;
    if (recorder) {
      this.#o.logger.info({ file: recorder.file }, 'wire recording off');
      await recorder.close();
    }
  }
}
