import { copyFile } from 'node:fs/promises';
import { connect, type Socket } from 'node:net';
import { join } from 'node:path';
import mqtt, { type MqttClient } from 'mqtt';
import WebSocket, { WebSocketServer } from 'ws';
import { startMpd, type MpdServer } from '../test/support/mpd-server.js';
import { within } from './support-stats.js';

/**
 * The floors the latency benches print their figures against (issues #5, #6): the raw legs a
 * command has to cross anyway — an MPD `pause` round trip, a loopback WebSocket echo, an MQTT
 * publish→receive through the same broker — each timed with performance.now() on its own
 * connection, so the bridge's own cost is what the ratio shows.
 */

/** One persistent MPD protocol connection: `rtt('pause 1')` is the time to its `OK`. */
export class MpdLine {
  readonly #socket: Socket;
  #buf = '';
  #waiting: ((reply: string) => void) | null = null;

  private constructor(socket: Socket) {
    this.#socket = socket;
    socket.setEncoding('utf8');
    socket.setNoDelay(true);
    socket.on('data', (d: string) => {
      this.#buf += d;
      if (!/(^|\n)(OK|ACK [^\n]*)\n$/.test(this.#buf) || !this.#waiting) return;
      const reply = this.#buf;
      const resolve = this.#waiting;
      this.#buf = '';
      this.#waiting = null;
      resolve(reply);
    });
  }

  static async open(host: string, port: number): Promise<MpdLine> {
    const socket = connect({ host, port });
    const greeting = new Promise<void>((resolve, reject) => {
      socket.once('error', reject);
      socket.once('data', () => resolve());
    });
    await greeting; // "OK MPD x.y.z": consumed before the line starts listening
    return new MpdLine(socket);
  }

  /** The reply to `cmd`; after `timeoutMs` (an `idle` nothing woke) it rejects and the line is closed. */
  send(cmd: string, timeoutMs = 5000): Promise<string> {
    const reply = new Promise<string>((resolve, reject) => {
      this.#waiting = (r) => (r.startsWith('ACK') || r.includes('\nACK') ? reject(new Error(r)) : resolve(r));
      this.#socket.write(`${cmd}\n`);
    });
    return within(reply, timeoutMs, `MPD reply to ${cmd}`).catch((err: unknown) => {
      this.close();
      throw err;
    });
  }

  /**
   * Clears the changes MPD holds for this connection: `idle` answers at once with the pending
   * ones, else the `noidle` written with it ends it with a bare `OK` (docs/protocol.md §9.1).
   */
  async drainIdle(subsystem: string): Promise<string> {
    return this.send(`idle ${subsystem}\nnoidle`);
  }

  async rtt(cmd: string): Promise<number> {
    const t0 = performance.now();
    await this.send(cmd);
    return performance.now() - t0;
  }

  close(): void {
    this.#socket.destroy();
  }
}

/** A second MPD, playing `trackFile`, that nothing but the floor talks to. */
export async function startFloorMpd(trackFile: string): Promise<{ mpd: MpdServer; line: MpdLine }> {
  const mpd = await startMpd();
  await copyFile(trackFile, join(mpd.dir, 'music', 'floor.flac'));
  const line = await MpdLine.open(mpd.host, mpd.port);
  await line.send('update');
  for (let i = 0; i < 500 && (await line.send('status')).includes('updating_db'); i++)
    await new Promise((r) => setTimeout(r, 10));
  await line.send('add floor.flac');
  await line.send('play 0');
  return { mpd, line };
}

/** A ws server that echoes every message, and a client timing round trips through it. */
export class WsEcho {
  #server: WebSocketServer | null = null;
  #client: WebSocket | null = null;

  async start(): Promise<void> {
    const server = new WebSocketServer({ host: '127.0.0.1', port: 0 });
    this.#server = server;
    server.on('connection', (ws) =>
      ws.on('message', (data, isBinary) => ws.send(data, { binary: isBinary })),
    );
    await new Promise<void>((resolve) => server.once('listening', () => resolve()));
    const { port } = server.address() as { port: number };
    const client = new WebSocket(`ws://127.0.0.1:${port}/`);
    this.#client = client;
    await new Promise<void>((resolve, reject) => {
      client.once('open', () => resolve());
      client.once('error', reject);
    });
  }

  rtt(bytes: Uint8Array): Promise<number> {
    const client = this.#client;
    if (!client) throw new Error('WsEcho not started');
    const t0 = performance.now();
    const echoed = new Promise<number>((resolve) => {
      client.once('message', () => resolve(performance.now() - t0));
      client.send(bytes);
    });
    return within(echoed, 5000, 'WebSocket echo');
  }

  async stop(): Promise<void> {
    this.#client?.terminate();
    await new Promise<void>((resolve) => (this.#server ? this.#server.close(() => resolve()) : resolve()));
  }
}

/** An MQTT client publishing to a topic it subscribes to: the broker's publish→receive round trip. */
export class MqttEcho {
  readonly #topic = `bench/echo/${process.pid}`;
  #client: MqttClient | null = null;

  async start(url: string): Promise<void> {
    this.#client = await mqtt.connectAsync(url, { protocolVersion: 5, reconnectPeriod: 0 });
    await this.#client.subscribeAsync(this.#topic, { qos: 0 });
  }

  rtt(payload: string): Promise<number> {
    const client = this.#client;
    if (!client) throw new Error('MqttEcho not started');
    const t0 = performance.now();
    const received = new Promise<number>((resolve) => {
      client.once('message', () => resolve(performance.now() - t0));
      client.publish(this.#topic, payload, { qos: 0 });
    });
    return within(received, 5000, 'MQTT echo');
  }

  async stop(): Promise<void> {
    await this.#client?.endAsync(true);
  }
}
