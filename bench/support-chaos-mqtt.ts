import mqtt, { type MqttClient } from 'mqtt';

/**
 * bench/chaos's view of MQTT, as Home Assistant has it: the latest retained `B/<player>/state`
 * of each player, and commands on `B/<player>/set` answered on `set/result` (matched by `id`).
 * It reconnects by itself (every 300 ms) through broker restarts, resubscribing as it does.
 */
export interface MqttState {
  readonly state: string;
  readonly trackId: number | null;
  readonly qobuzSession: string;
  readonly at: number;
}

export class MqttWatch {
  readonly #client: MqttClient;
  readonly #base: string;
  readonly #states = new Map<string, MqttState>();
  /** The last `B/<player>/availability` payload and when it came. */
  readonly #availability = new Map<string, { readonly payload: string; readonly at: number }>();
  readonly #results = new Map<string, (r: { ok: boolean; error?: string }) => void>();
  #seq = 0;
  /** Payloads on state topics that did not parse as the README's state JSON. */
  readonly malformed: string[] = [];

  private constructor(client: MqttClient, base: string) {
    this.#client = client;
    this.#base = base;
    client.on('message', (topic, payload) => this.#onMessage(topic, payload.toString()));
  }

  static async connect(url: string, base: string): Promise<MqttWatch> {
    const client = await mqtt.connectAsync(url, {
      protocolVersion: 5,
      reconnectPeriod: 300,
      connectTimeout: 5000,
      resubscribe: true,
    });
    // Errors while the broker is away are expected; the client reconnects.
    client.on('error', () => undefined);
    const watch = new MqttWatch(client, base);
    await client.subscribeAsync([`${base}/+/state`, `${base}/+/set/result`, `${base}/+/availability`], { qos: 1 });
    return watch;
  }

  get connected(): boolean {
    return this.#client.connected;
  }

  state(playerId: string): MqttState | undefined {
    return this.#states.get(playerId);
  }

  /** Forgets every state seen: after a broker restart (no persistence) only what the bridge published again counts. */
  forgetStates(): void {
    this.#states.clear();
  }

  /** The player said `online` (its MPD reachable again) at or after `since` (epoch ms). */
  onlineSince(playerId: string, since: number): boolean {
    const a = this.#availability.get(playerId);
    return a !== undefined && a.payload === 'online' && a.at >= since;
  }

  /** Publishes a command; resolves with its answer, or `{ok: false, error: 'no answer'}` after `timeoutMs`. */
  command(playerId: string, body: Record<string, unknown>, timeoutMs = 15_000): Promise<{ ok: boolean; error?: string }> {
    const id = `chaos-${++this.#seq}`;
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.#results.delete(id);
        resolve({ ok: false, error: `no answer within ${timeoutMs} ms` });
      }, timeoutMs);
      this.#results.set(id, (r) => {
        clearTimeout(timer);
        resolve(r);
      });
      this.#client.publish(`${this.#base}/${playerId}/set`, JSON.stringify({ ...body, id }), { qos: 1 }, (err) => {
        if (!err) return;
        clearTimeout(timer);
        this.#results.delete(id);
        resolve({ ok: false, error: `publish failed: ${err.message}` });
      });
    });
  }

  async end(): Promise<void> {
    await this.#client.endAsync(true);
  }

  #onMessage(topic: string, payload: string): void {
    if (payload.length === 0) return; // a retained topic cleared
    const rest = topic.slice(this.#base.length + 1);
    const [player, kind, sub] = rest.split('/');
    if (!player) return;
    if (kind === 'availability' && sub === undefined) {
      this.#availability.set(player, { payload, at: Date.now() });
      return;
    }
    try {
      const json = JSON.parse(payload) as Record<string, unknown>;
      if (kind === 'state' && sub === undefined) {
        const track = json['track'] as { id?: unknown } | null | undefined;
        this.#states.set(player, {
          state: String(json['state']),
          trackId: typeof track?.id === 'number' ? track.id : null,
          qobuzSession: String(json['qobuz_session']),
          at: Date.now(),
        });
      } else if (kind === 'set' && sub === 'result') {
        const id = typeof json['id'] === 'string' ? json['id'] : '';
        const answer = this.#results.get(id);
        this.#results.delete(id);
        answer?.({ ok: json['ok'] === true, ...(typeof json['error'] === 'string' ? { error: json['error'] } : {}) });
      }
    } catch {
      if (kind === 'state') this.malformed.push(payload.slice(0, 200));
    }
  }
}
