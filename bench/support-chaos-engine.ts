import type { FuzzRandom } from '../test/support/fuzz-random.js';
import { MISSING_TRACK, type ChaosPlayer, type ChaosRig } from './support-chaos-rig.js';
import type { SilenceWatch } from './support-chaos-watch.js';

/**
 * bench/chaos's faults and commands, drawn from one seeded generator (issue #21 part 4). Each
 * opens the windows it legitimately needs: a silence grace on the players whose audio it may
 * stop, and a settle time before the next quiet check may expect the three views to agree.
 */
export const FAULTS = [
  'link_drop',
  'token_expiry',
  'mpd_restart',
  'broker_restart',
  'rest_slow',
  'rest_fail',
  'item_404',
] as const;
export type FaultKind = (typeof FAULTS)[number];

export const COMMANDS = [
  'app_play',
  'app_pause',
  'app_seek',
  'app_next',
  'app_volume',
  'app_queue',
  'mqtt_play',
  'mqtt_pause',
  'mqtt_next',
  'mqtt_volume',
  'mpc_play',
  'mpc_pause',
  'mpc_next',
  'mpc_volume',
] as const;
export type CommandKind = (typeof COMMANDS)[number];

const REST_PATHS = ['track/getFileUrl', 'track/get'] as const;
/** What a command that restarts or moves the audio may cost on a loaded machine (stream opened again). */
const COMMAND_GRACE_MS = 3000;

export class ChaosEngine {
  readonly faults = new Map<FaultKind, number>(FAULTS.map((f) => [f, 0]));
  readonly commands = new Map<CommandKind, number>(COMMANDS.map((c) => [c, 0]));
  /** Commands the bridge answered with an error (MQTT) or that failed to run (mpc), with why. */
  readonly refused: string[] = [];
  /** Every fault and command, in order (epoch ms), for the report's account of each violation. */
  readonly events: Array<{ readonly at: number; readonly player: string | null; readonly what: string }> = [];
  readonly #pending = new Set<Promise<void>>();
  /** No quiet check expects agreement before this (ms epoch). */
  #settleUntil = 0;
  /** REST faults affect whichever player asks next: every player's silence is forced until then. */
  #restGraceUntil = 0;
  #restFailures: Array<{ path: string; status: number; before: number; count: number }> = [];
  #slowPaths = new Set<string>();
  readonly #missingItems = new Map<ChaosPlayer, number[]>();
  /** Players with an MQTT play sent while their Qobuz link was down, not answered yet. */
  readonly #playsAwaitingLink = new Set<ChaosPlayer>();

  constructor(
    private readonly rig: ChaosRig,
    private readonly rnd: FuzzRandom,
    private readonly silence: () => SilenceWatch,
    private readonly note: (line: string) => void,
  ) {}

  /** The silence of `p` is forced now (paused on purpose, its MPD down, a fault's or command's grace). */
  forced(p: ChaosPlayer): boolean {
    if (this.#playsAwaitingLink.has(p)) {
      // The play needs the Qobuz session (README "Own Qobuz identity": a play on a player Qobuz does
      // not play on is a transfer), and a link drop or token expiry keeps it away: the fault forces
      // the silence until the link is back (the bridge reconnects at once for the play, docs/protocol.md
      // §5.12, but a refused token or a slow mint still takes its time), then the command's usual grace runs.
      if (!this.rig.reachable(p)) return true;
      this.#playsAwaitingLink.delete(p);
      this.#grace(p, COMMAND_GRACE_MS);
    }
    return p.intent !== 'play' || p.mpdDown || Date.now() < p.silenceGraceUntil;
  }

  /**
   * A REST fault is under way or ended less than 6 s ago: it may hold up whichever player starts a
   * track now (stream URL or metadata late or failed). It excuses only a silence that begins meanwhile.
   */
  restExcuses(): boolean {
    const now = Date.now();
    this.#consumeRestFailures();
    if (this.#restFailures.length > 0 || this.#slowPaths.size > 0) this.#restGraceUntil = Math.max(this.#restGraceUntil, now + 6000);
    return now < this.#restGraceUntil;
  }

  /** One random fault (probability `faultShare`) or command. */
  step(faultShare: number): void {
    if (this.rnd.chance(faultShare)) this.#fault(this.rnd.pick(FAULTS));
    else this.#command(this.rnd.pick(COMMANDS));
  }

  /** Waits for every fault in progress to end, its windows to close and REST to answer normally again. */
  async settle(maxMs: number): Promise<void> {
    const deadline = Date.now() + maxMs;
    while (this.#pending.size > 0 && Date.now() < deadline) await Promise.race([...this.#pending, sleep(500)]);
    this.#consumeRestFailures();
    this.rig.api.clearFailures();
    for (const path of this.#slowPaths) this.rig.api.setDelay(0, path);
    this.#slowPaths.clear();
    this.#restFailures = [];
    for (const [p, items] of this.#missingItems) {
      if (!this.rig.reachable(p)) continue; // removed at a later settle
      // Like app_queue, never the item the player sits on (paused on a 404 item it could not start):
      // the service would name a current item its queue no longer holds. Removed at a later settle.
      const current = p.sim.queue().currentQueueItemId;
      const [now, later] = [items.filter((id) => id !== current), items.filter((id) => id === current)];
      if (now.length > 0) p.sim.removeTracks(now);
      if (later.length > 0) this.#missingItems.set(p, later);
      else this.#missingItems.delete(p);
    }
    const until = Math.max(this.#settleUntil, ...this.rig.players.map((p) => p.silenceGraceUntil));
    while (Date.now() < Math.min(until, deadline)) await sleep(100);
  }

  #player(): ChaosPlayer {
    return this.rnd.pick(this.rig.players);
  }

  #settle(ms: number): void {
    this.#settleUntil = Math.max(this.#settleUntil, Date.now() + ms);
  }

  #grace(p: ChaosPlayer, ms: number): void {
    p.silenceGraceUntil = Math.max(p.silenceGraceUntil, Date.now() + ms);
  }

  #track(run: () => Promise<void>): void {
    const job = run().catch((err: unknown) => this.note(`fault step failed: ${String(err)}`));
    const done = job.finally(() => this.#pending.delete(done));
    this.#pending.add(done);
  }

  #fault(kind: FaultKind): void {
    const rig = this.rig;
    const p = this.#player();
    switch (kind) {
      case 'link_drop': {
        if (!rig.reachable(p)) return;
        p.sim.dropConnection(p.rendererId);
        this.#settle(6000);
        break;
      }
      case 'token_expiry': {
        // The service ends the token it holds for the link now, as if it had run out: refused at the next Authenticate.
        const conn = rig.service
          .connections()
          .filter((c) => c.rendererId === p.rendererId && c.phase !== 'closed')
          .at(-1);
        if (!conn?.jwt || !rig.reachable(p)) return;
        rig.service.expireToken(conn.jwt);
        p.sim.dropConnection(p.rendererId);
        this.#settle(10_000);
        break;
      }
      case 'mpd_restart': {
        if (p.mpdDown) return;
        p.mpdDown = true;
        p.unrestored = true;
        const downMs = 500 + this.rnd.int(3000);
        this.#track(async () => {
          // An `online` counts from the kill on, not from restart()'s return: the bridge's reconnect
          // (250 ms backoff) can reach the new MPD, restore and say `online` before restart() has
          // polled MPD's port itself, and that `online` is the recovery.
          const killedAt = Date.now();
          await p.mpd.kill();
          await sleep(downMs);
          await p.mpd.restart();
          const backAt = Date.now();
          p.mpdDown = false;
          // Forced until the bridge says the player is online again (its MPD reconnect backs off up to
          // 5 s), then as long as a restore and a stream start may take on a loaded machine.
          const prior = p.silenceGraceUntil;
          this.#grace(p, 30_000);
          const deadline = backAt + 30_000;
          while (!this.rig.mqtt.onlineSince(p.id, killedAt) && Date.now() < deadline) await sleep(100);
          p.unrestored = false;
          if (!this.rig.mqtt.onlineSince(p.id, killedAt)) this.#recovery(p, 'MPD restarted, but the player was not online again on MQTT within 30 s');
          p.silenceGraceUntil = Math.max(prior, Date.now() + 5000);
          this.#settle(5000);
        });
        break;
      }
      case 'broker_restart': {
        if (rig.brokerDown) return;
        rig.brokerDown = true;
        const downMs = 300 + this.rnd.int(2500);
        this.#track(async () => {
          await rig.mosquitto.kill();
          rig.mqtt.forgetStates();
          await sleep(downMs);
          await rig.mosquitto.restart();
          rig.brokerDown = false;
          this.#settle(8000);
        });
        break;
      }
      case 'rest_slow': {
        const path = this.rnd.pick(REST_PATHS);
        const delayMs = 800 + this.rnd.int(2200);
        const windowMs = 3000 + this.rnd.int(5000);
        rig.api.setDelay(delayMs, path);
        this.#slowPaths.add(path);
        this.#event(null, `(${path} answers ${delayMs} ms late for ${windowMs} ms)`);
        this.#track(async () => {
          await sleep(windowMs);
          rig.api.setDelay(0, path);
          this.#slowPaths.delete(path);
          this.#settle(delayMs + 4000);
        });
        break;
      }
      case 'rest_fail': {
        const path = this.rnd.pick(REST_PATHS);
        const status = this.rnd.pick([500, 502, 503]);
        const count = 1 + this.rnd.int(2);
        const before = rig.api.requestsTo(path).filter((r) => r.status === status).length;
        rig.api.failNext(count, status, { path });
        this.#event(null, `(the next ${count} ${path} fail with ${status})`);
        this.#restFailures.push({ path, status, before, count });
        this.#settle(4000);
        break;
      }
      case 'item_404': {
        if (!rig.reachable(p)) return;
        const q = p.sim.queue();
        const current = q.currentQueueItemId;
        // The current item may be one the queue no longer holds (a 404 item removed at a settle while
        // the player sat on it): there is nothing to insert after, so no fault this time.
        if (current < 0 || !q.items.some((i) => i.queueItemId === current)) return;
        p.sim.insertTracks([MISSING_TRACK], current);
        const item = p.sim.queue().items.find((i) => i.trackId === MISSING_TRACK && !this.#missingItems.get(p)?.includes(i.queueItemId));
        if (item) this.#missingItems.set(p, [...(this.#missingItems.get(p) ?? []), item.queueItemId]);
        // Forced: the item cannot play; the bridge skips it when it comes up, after what remains of this one.
        const last = this.silence().last.get(p.id);
        const remainingMs = last ? Math.max(0, (last.durationS - last.elapsedS) * 1000) : 30_000;
        this.#grace(p, remainingMs + 8000);
        this.#settle(remainingMs + 8000);
        break;
      }
    }
    this.faults.set(kind, (this.faults.get(kind) ?? 0) + 1);
    this.#event(kind === 'broker_restart' || kind.startsWith('rest_') ? null : p, kind);
  }

  /** A fault the bridge did not recover from in time (reported as a violation by bench/chaos.ts). */
  readonly unrecovered: Array<{ readonly at: number; readonly player: string; readonly detail: string }> = [];

  #recovery(p: ChaosPlayer, detail: string): void {
    this.unrecovered.push({ at: Date.now(), player: p.id, detail });
  }

  #event(p: ChaosPlayer | null, what: string): void {
    this.events.push({ at: Date.now(), player: p?.id ?? null, what });
  }

  /** Waits until every player is back in its Qobuz session (reconnect backoff reaches 20 s); false when one is not within `withinMs`. */
  async reconnected(withinMs: number): Promise<ChaosPlayer[]> {
    const deadline = Date.now() + withinMs;
    for (;;) {
      const away = this.rig.players.filter((p) => !this.rig.reachable(p));
      if (away.length === 0 || Date.now() > deadline) return away;
      await sleep(100);
    }
  }

  /** REST failures met by a call: their grace ends 6 s later. */
  #consumeRestFailures(): void {
    this.#restFailures = this.#restFailures.filter(
      (f) => this.rig.api.requestsTo(f.path).filter((r) => r.status === f.status).length < f.before + f.count,
    );
  }

  #command(kind: CommandKind): void {
    const rig = this.rig;
    const p = this.#player();
    const [source, verb] = kind.split('_') as ['app' | 'mqtt' | 'mpc', string];
    if (source === 'app' && !rig.reachable(p)) return;
    if (source === 'mqtt' && (rig.brokerDown || !rig.mqtt.connected)) return;
    if (source === 'mpc' && p.mpdDown) return;
    if (verb === 'play' || verb === 'next' || verb === 'seek') this.#grace(p, COMMAND_GRACE_MS);
    // An `mpc` command between an MPD restart and the bridge's restore reaches an MPD that holds
    // nothing of ours yet (or a stale queue from its state file); the bridge, not connected, cannot
    // see it, and its restore brings back what it knew at the loss (src/mpd/mpd-restore.ts): the
    // restart fault erases the command, so it changes no intent (the next quiet check reads it).
    const counts = !(source === 'mpc' && p.unrestored);
    // Only the app's next says to play (a 41 PLAYING with the item); MQTT's and MPD's keep a pause.
    if (counts && (verb === 'play' || kind === 'app_next')) p.intent = 'play';
    if (counts && verb === 'pause') p.intent = 'pause';
    const awaitsLink = kind === 'mqtt_play' && !rig.reachable(p);
    if (awaitsLink) this.#playsAwaitingLink.add(p);
    this.#settle(1000);
    const volume = 10 + this.rnd.int(80);
    if (source === 'app') this.#app(p, verb, volume);
    else if (source === 'mqtt') {
      const body: Record<string, unknown> = verb === 'volume' ? { volume } : { action: verb };
      const sentAt = Date.now();
      this.#track(async () => {
        const r = await rig.mqtt.command(p.id, body);
        if (awaitsLink) this.#playsAwaitingLink.delete(p);
        if (!r.ok) this.#refusedCommand(p, `${kind} on ${p.id}: ${r.error ?? '?'}${this.#faultsSince(sentAt, p)}`);
      });
    } else {
      const args = verb === 'volume' ? ['volume', String(volume)] : [verb];
      this.#track(async () => {
        await rig.mpc(p, args).catch((err: unknown) => this.#refusedCommand(p, `${kind} on ${p.id}: ${String(err)}`));
      });
    }
    this.commands.set(kind, (this.commands.get(kind) ?? 0) + 1);
    this.#event(p, kind);
  }

  /**
   * What happened to `p` (or to every player: a broker restart) from 10 s before `at` on, with
   * times relative to `at`: a refused command says what it met (a broker restarted just before
   * it may still have the bridge reconnecting, and a command published then reaches no subscriber).
   */
  #faultsSince(at: number, p: ChaosPlayer): string {
    const met = this.events.filter((e) => e.at > at - 10_000 && (e.player === null || e.player === p.id));
    const when = (t: number) => `${t >= at ? '+' : ''}${((t - at) / 1000).toFixed(1)} s`;
    return ` (around it: ${met.map((e) => `${when(e.at)} ${e.what}`).join(', ')})`;
  }

  /** A refused command leaves the player as it was: what it plays now is what it was asked (checked at the next quiet second). */
  #refusedCommand(p: ChaosPlayer, why: string): void {
    this.refused.push(why);
    this.#grace(p, COMMAND_GRACE_MS);
    const last = this.silence().last.get(p.id);
    if (last) p.intent = last.state === 'play' ? 'play' : 'pause';
  }

  #app(p: ChaosPlayer, verb: string, volume: number): void {
    const q = p.sim.queue();
    const order = q.items;
    const at = order.findIndex((i) => i.queueItemId === q.currentQueueItemId);
    switch (verb) {
      case 'play':
        return p.sim.play();
      case 'pause':
        return p.sim.pause();
      case 'seek': {
        const last = this.silence().last.get(p.id);
        const span = Math.max(1, Math.floor(((last?.durationS ?? 10) - 3) * 1000));
        return p.sim.seek(this.rnd.int(span));
      }
      case 'next': {
        const next = order[(at + 1) % Math.max(1, order.length)];
        if (next) p.sim.jump(next.queueItemId, { playing: true });
        return;
      }
      case 'volume':
        return p.sim.setVolume(volume);
      default: {
        // A queue change: grow it while short, shrink it while long, else move an item.
        const others = order.filter((_, i) => i !== at && i !== (at + 1) % order.length);
        const extra = this.rnd.pick(this.rig.trackIds);
        if (order.length < 6 || others.length === 0) p.sim.addTracks([extra]);
        else if (order.length > 12) p.sim.removeTracks([this.rnd.pick(others).queueItemId]);
        else if (this.rnd.chance(0.5)) p.sim.insertTracks([extra], q.currentQueueItemId);
        else p.sim.reorderTracks([this.rnd.pick(others).queueItemId], q.currentQueueItemId);
        this.#grace(p, COMMAND_GRACE_MS);
      }
    }
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
