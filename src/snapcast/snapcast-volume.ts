import type { Logger } from 'pino';
import { QcbError, errorMessage } from '../core/qcb-error.js';
import type { VolumeControl, VolumeControlEvents, VolumeControlSnapshot } from '../core/volume-control.js';
import { SerialQueue } from '../util/serial-queue.js';
import { TypedEmitter } from '../util/typed-emitter.js';
import { activeClients, followedGroups, groupVolume, scaledVolumes, type Follow } from './group-volume.js';
import { parseNotification, parseServerStatus, parseVolumeResult, type SnapGroup, type SnapServer } from './snapcast-messages.js';
import { SnapcastRpc } from './snapcast-rpc.js';

/**
 * `players[].volume.mode: snapcast` (README "Multi-room with Snapcast"): the player's volume is a
 * Snapcast group's, or that of every group playing a stream (docs/architecture.md "Snapcast").
 * Setting it moves each client in proportion (group-volume.ts) and muting mutes the groups; a
 * change made anywhere else (Snapcast's web UI, Home Assistant's Snapcast integration, another
 * client) comes back as `volumeChanged`. Our own changes are not echoed back, so a burst of app
 * slider moves never bounces an older level back to the app. Requests run one at a time.
 */

export interface SnapcastVolumeOptions extends Follow {
  readonly host: string;
  readonly port: number;
  readonly logger: Logger;
  readonly timeoutMs?: number;
  readonly stepsMs?: readonly number[];
}

export class SnapcastVolume implements VolumeControl {
  readonly events: TypedEmitter<VolumeControlEvents>;
  readonly #rpc: SnapcastRpc;
  readonly #log: Logger;
  readonly #follow: Follow;
  readonly #queue = new SerialQueue();
  #server: SnapServer | null = null;
  /** Our last group volume and the client volumes it gave: while they hold, the group's volume is the one asked for (no rounding drift). */
  #asked: { readonly target: number; readonly volumes: ReadonlyMap<string, number> } | null = null;
  /** What the session last heard (emitted or set by it). */
  #last: { percent: number | null; muted: boolean } = { percent: null, muted: false };

  constructor(options: SnapcastVolumeOptions) {
    this.#log = options.logger.child({ snapserver: `${options.host}:${options.port}` });
    this.#follow = { group: options.group, stream: options.stream };
    this.#rpc = new SnapcastRpc({
      host: options.host,
      port: options.port,
      logger: this.#log,
      ...(options.timeoutMs ? { timeoutMs: options.timeoutMs } : {}),
      ...(options.stepsMs ? { stepsMs: options.stepsMs } : {}),
    });
    this.events = new TypedEmitter<VolumeControlEvents>((err, event) =>
      this.#log.error({ err: errorMessage(err), event }, 'snapcast volume listener threw'),
    );
    this.#rpc.events.on('connected', () => {
      this.#refresh();
      this.events.emit('availabilityChanged', true);
    });
    this.#rpc.events.on('lost', () => this.events.emit('availabilityChanged', false));
    this.#rpc.events.on('notification', (method, params) => this.#onNotification(method, params));
  }

  async start(): Promise<void> {
    await this.#rpc.start();
    await this.#queue.idle();
  }

  async stop(): Promise<void> {
    await this.#rpc.stop();
  }

  snapshot(): VolumeControlSnapshot {
    const now = this.#current();
    return { volumePercent: now.percent, muted: now.muted, available: this.#rpc.connected };
  }

  setVolume(volumePercent: number): Promise<void> {
    const target = Math.max(0, Math.min(100, Math.round(volumePercent)));
    return this.#queue.run(async () => {
      const groups = await this.#groups();
      const clients = activeClients(groups);
      if (clients.length === 0) throw new QcbError('ERR_SNAPCAST', `no Snapcast client in ${this.#what()}`);
      const volumes = scaledVolumes(
        clients.map((c) => ({ id: c.id, percent: c.config.volume.percent })),
        target,
      );
      this.#asked = { target, volumes };
      for (const c of clients) {
        const percent = volumes.get(c.id);
        if (percent === undefined || percent === c.config.volume.percent) continue;
        // Both fields, as Snapcast's control API documents them; a room's own mute is kept.
        const result = parseVolumeResult(await this.#rpc.request('Client.SetVolume', { id: c.id, volume: { percent, muted: c.config.volume.muted } }));
        if (!result) throw new QcbError('ERR_SNAPCAST', 'snapserver answered Client.SetVolume with something else than a volume');
        c.config.volume = result;
      }
      this.#last = { ...this.#last, percent: this.#current().percent };
      this.#log.debug({ target, clients: Object.fromEntries(volumes) }, 'snapcast group volume set');
    });
  }

  setMuted(muted: boolean): Promise<void> {
    return this.#queue.run(async () => {
      const groups = await this.#groups();
      if (groups.length === 0) throw new QcbError('ERR_SNAPCAST', `no Snapcast group in ${this.#what()}`);
      for (const g of groups) {
        const result = await this.#rpc.request('Group.SetMute', { id: g.id, mute: muted });
        const mute = (result as { mute?: unknown } | null)?.mute;
        if (typeof mute !== 'boolean') throw new QcbError('ERR_SNAPCAST', 'snapserver answered Group.SetMute with something else than a mute');
        g.muted = mute;
      }
      this.#last = { ...this.#last, muted: this.#current().muted };
    });
  }

  #what(): string {
    return this.#follow.group !== null ? `group "${this.#follow.group}"` : `stream "${this.#follow.stream}"`;
  }

  /** The followed groups, reading the server's status first when we have none. */
  async #groups(): Promise<SnapGroup[]> {
    if (!this.#server) await this.#readStatus();
    return this.#server ? followedGroups(this.#server, this.#follow) : [];
  }

  #current(): { percent: number | null; muted: boolean } {
    const groups = this.#server ? followedGroups(this.#server, this.#follow) : [];
    const now = groupVolume(groups);
    const asked = this.#asked;
    const clients = activeClients(groups);
    const holds = asked !== null && clients.length > 0 && clients.every((c) => asked.volumes.get(c.id) === c.config.volume.percent);
    return { percent: holds ? asked.target : now.percent, muted: now.muted };
  }

  async #readStatus(): Promise<void> {
    const server = parseServerStatus(await this.#rpc.request('Server.GetStatus'));
    if (!server) throw new QcbError('ERR_SNAPCAST', 'snapserver answered Server.GetStatus with something else than a server status');
    this.#server = server;
    if (followedGroups(server, this.#follow).length === 0)
      this.#log.warn({ follow: this.#follow }, `snapserver has no ${this.#what()} (yet): volume unknown`);
  }

  /** Reads the whole status again (after a connect, or when clients or streams moved), in turn with our requests. */
  #refresh(): void {
    this.#queue
      .run(async () => {
        await this.#readStatus();
        this.#announce();
      })
      .catch((err: unknown) => this.#log.warn({ err: errorMessage(err) }, 'could not read the Snapcast status'));
  }

  #onNotification(method: string, params: unknown): void {
    const n = parseNotification(method, params);
    if (!n) return;
    if (n.type === 'refresh') return this.#refresh();
    if (n.type === 'server') this.#server = n.server;
    const groups = this.#server?.groups ?? [];
    if (n.type === 'clientVolume') {
      const client = groups.flatMap((g) => g.clients).find((c) => c.id === n.id);
      if (!client) return this.#refresh();
      client.config.volume = { percent: n.percent, muted: n.muted };
    } else if (n.type === 'groupMute') {
      const group = groups.find((g) => g.id === n.id);
      if (!group) return this.#refresh();
      group.muted = n.muted;
    }
    this.#announce();
  }

  /** Tells the session when the followed volume or mute is not what it last heard. */
  #announce(): void {
    const now = this.#current();
    if (now.percent === null || (now.percent === this.#last.percent && now.muted === this.#last.muted)) return;
    this.#last = now;
    this.events.emit('volumeChanged', now.percent, now.muted);
  }
}
