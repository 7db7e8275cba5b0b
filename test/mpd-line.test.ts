import { createServer, type Server, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { MpdAckError, MpdLine, quoteArg } from '../src/mpd/mpd-line.js';

/**
 * Issue #11 (bench/latency): our MPD line client writes one line at a time, only after MPD's
 * previous answer, so no answer of MPD's waits for a delayed ACK. A scripted MPD on loopback
 * records what arrives while an answer is still owed; the real MPD is covered by mpd-client tests.
 */
interface Scripted {
  readonly server: Server;
  readonly port: number;
  /** Every line received, with how many answers were owed when it arrived. */
  readonly received: Array<{ line: string; owed: number }>;
  /** Answers the oldest owed line with `text` (which must end in OK or ACK). */
  answer(text: string): void;
  /** Drops every client connection. */
  drop(): void;
  waitForLines(n: number): Promise<void>;
}

const started: Scripted[] = [];
afterEach(async () => {
  for (const m of started.splice(0)) {
    m.drop();
    await new Promise<void>((r) => m.server.close(() => r()));
  }
});

async function scriptedMpd(): Promise<Scripted> {
  const received: Scripted['received'] = [];
  let socket: Socket | null = null;
  let owed = 0;
  let buffer = '';
  const waiters: Array<() => void> = [];
  const server = createServer((s) => {
    socket = s;
    s.write('OK MPD 0.23.5\n');
    s.on('data', (d: Buffer) => {
      buffer += d.toString();
      for (let nl = buffer.indexOf('\n'); nl >= 0; nl = buffer.indexOf('\n')) {
        const line = buffer.slice(0, nl);
        received.push({ line, owed });
        // `noidle` is the one line sent while an answer (to `idle`) is owed; MPD answers the idle.
        if (line !== 'noidle') owed += 1;
        buffer = buffer.slice(nl + 1);
        for (const w of waiters.splice(0)) w();
      }
    });
    s.on('error', () => undefined);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const scripted: Scripted = {
    server,
    port: (server.address() as AddressInfo).port,
    received,
    answer(text) {
      owed -= 1;
      socket?.write(text);
    },
    drop() {
      socket?.destroy();
    },
    async waitForLines(n) {
      while (received.length < n) await new Promise<void>((r) => waiters.push(r));
    },
  };
  started.push(scripted);
  return scripted;
}

describe('MpdLine, our MPD protocol client (issue #11)', () => {
  it('sends a command only once the previous one is answered, never pipelined', async () => {
    const mpd = await scriptedMpd();
    const line = await MpdLine.connect({ host: '127.0.0.1', port: mpd.port, watch: false });
    const answers = [line.command('status'), line.command('pause "1"'), line.command('currentsong')];
    await mpd.waitForLines(1);
    mpd.answer('state: play\nOK\n');
    await mpd.waitForLines(2);
    mpd.answer('OK\n');
    await mpd.waitForLines(3);
    mpd.answer('ACK [50@0] {currentsong} No such song\n');
    expect(await answers[0]).toBe('state: play\n');
    expect(await answers[1]).toBe('');
    await expect(answers[2]).rejects.toBeInstanceOf(MpdAckError);
    await expect(answers[2]).rejects.toThrow('No such song');
    expect(mpd.received.map((r) => r.line)).toEqual(['status', 'pause "1"', 'currentsong']);
    expect(mpd.received.every((r) => r.owed === 0)).toBe(true);
    line.close();
  });

  it('a watching connection idles, reports changes, and leaves idle before a command without pipelining it', async () => {
    const mpd = await scriptedMpd();
    const line = await MpdLine.connect({ host: '127.0.0.1', port: mpd.port, watch: true });
    const changed: string[] = [];
    line.events.on('changed', (s) => changed.push(s));
    await mpd.waitForLines(1);
    mpd.answer('changed: player\nchanged: mixer\nOK\n');
    await mpd.waitForLines(2); // idles again
    const status = line.command('status');
    await mpd.waitForLines(3);
    expect(mpd.received.map((r) => r.line)).toEqual(['idle', 'idle', 'noidle']);
    mpd.answer('OK\n'); // the idle ends
    await mpd.waitForLines(4);
    mpd.answer('state: pause\nOK\n');
    expect(await status).toBe('state: pause\n');
    expect(changed).toEqual(['player', 'mixer']);
    expect(mpd.received[3]).toEqual({ line: 'status', owed: 0 });
    line.close();
  });

  it('reads a binary payload by its length, newlines and OK inside it included', async () => {
    const mpd = await scriptedMpd();
    const line = await MpdLine.connect({ host: '127.0.0.1', port: mpd.port, watch: false });
    const art = line.command('albumart "x" "0"');
    await mpd.waitForLines(1);
    // The payload "OK\nab\n" (6 bytes) looks like an answer's end; MPD follows it with a newline.
    mpd.answer('size: 6\nbinary: 6\nOK\nab\n\nOK\n');
    expect(await art).toBe('size: 6\nbinary: 6\n');
    line.close();
  });

  it('rejects every pending command at once when the connection drops', async () => {
    const mpd = await scriptedMpd();
    const line = await MpdLine.connect({ host: '127.0.0.1', port: mpd.port, watch: false });
    const closed = new Promise<void>((r) => line.events.on('closed', () => r()));
    const pending = [line.command('status'), line.command('stats')];
    await mpd.waitForLines(1);
    mpd.drop();
    await closed;
    for (const p of pending) await expect(p).rejects.toThrow(/closed|error/);
    await expect(line.command('status')).rejects.toThrow(/closed/);
  });

  it('quotes arguments the way MPD reads them', () => {
    expect(quoteArg('a "b" \\ c')).toBe('"a \\"b\\" \\\\ c"');
  });
});
