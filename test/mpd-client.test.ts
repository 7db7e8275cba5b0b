import { createServer, type Server, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isQcbError } from '../src/core/qcb-error.js';
import { MpdClient, type MpdClientOptions } from '../src/mpd/mpd-client.js';
import { startMpd, type MpdServer } from './support/mpd-server.js';

const logger = pino({ level: 'silent' });

/** Resolves with the rejection of `promise` (fails the test if it resolves). */
async function rejection(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (err) {
    return err;
  }
  throw new Error('expected a rejection');
}

describe('MpdClient against a real MPD', () => {
  let mpd: MpdServer;
  const options = (): MpdClientOptions => ({ host: mpd.host, port: mpd.port, timeoutMs: 10_000, logger });

  beforeAll(async () => {
    mpd = await startMpd();
  });
  afterAll(async () => {
    await mpd?.stop();
  });

  it('turns consume, random, repeat and single off with the exact argument strings MPD needs', async () => {
    for (const mode of ['consume', 'random', 'repeat', 'single']) await mpd.command(`${mode} 1`);
    const client = await MpdClient.connect(options());
    try {
      await client.setPlaybackModesOff();
      const st = await mpd.status();
      expect([st.consume, st.random, st.repeat, st.single]).toEqual(['0', '0', '0', '0']);
      expect(await client.status()).toMatchObject({
        consume: false,
        random: false,
        repeat: false,
        single: false,
      });
    } finally {
      await client.close();
    }
  });

  it('adds URLs with addid, returns their ids and lists them back', async () => {
    const client = await MpdClient.connect(options());
    try {
      await client.clear();
      const a = await client.addId('http://127.0.0.1:9/a.flac');
      const b = await client.addId('http://127.0.0.1:9/b.flac', 0);
      expect(typeof a).toBe('number');
      const songs = await client.playlistInfo();
      expect(songs.map((s) => [s.id, s.pos])).toEqual([
        [b, 0],
        [a, 1],
      ]);
      await client.deleteId(b);
      expect((await client.status()).playlistLength).toBe(1);
    } finally {
      await client.close();
    }
  });

  it('rejects an MPD error reply with ERR_MPD_COMMAND and stays usable', async () => {
    const client = await MpdClient.connect(options());
    try {
      const err = await rejection(client.seekId(999_999, 1));
      expect(isQcbError(err, 'ERR_MPD_COMMAND')).toBe(true);
      expect((await client.status()).state).toBeDefined();
      expect(client.closed).toBe(false);
    } finally {
      await client.close();
    }
  });

  it('reports changes made by another client through unfiltered idle', async () => {
    const client = await MpdClient.connect(options());
    try {
      const seen = new Promise<string>((resolve) =>
        client.events.on('changed', (s) => s === 'mixer' && resolve(s)),
      );
      await mpd.command('setvol 42');
      expect(await seen).toBe('mixer');
    } finally {
      await client.close();
    }
  });
});

describe('MpdClient with a password', () => {
  let mpd: MpdServer;
  beforeAll(async () => {
    mpd = await startMpd({ password: 'pw secret' });
  });
  afterAll(async () => {
    await mpd?.stop();
  });

  it('connects twice with the same options, password included (a password with a space is quoted)', async () => {
    const options: MpdClientOptions = {
      host: mpd.host,
      port: mpd.port,
      password: 'pw secret',
      timeoutMs: 10_000,
      logger,
    };
    for (let i = 0; i < 2; i++) {
      const client = await MpdClient.connect(options);
      expect((await client.status()).state).toBe('stop');
      await client.close();
    }
    expect(options.password).toBe('pw secret');
  });

  it('refuses a wrong password with ERR_MPD_UNREACHABLE', async () => {
    const err = await rejection(
      MpdClient.connect({ host: mpd.host, port: mpd.port, password: 'nope', timeoutMs: 10_000, logger }),
    );
    expect(isQcbError(err, 'ERR_MPD_UNREACHABLE')).toBe(true);
  });
});

describe('MpdClient when MPD goes away or hangs', () => {
  it('emits closed and rejects commands at once when MPD is killed', async () => {
    const mpd = await startMpd();
    try {
      const client = await MpdClient.connect({ host: mpd.host, port: mpd.port, timeoutMs: 5000, logger });
      const closed = new Promise<void>((resolve) => client.events.on('closed', () => resolve()));
      await mpd.kill();
      await closed;
      const started = Date.now();
      const err = await rejection(client.status());
      expect(isQcbError(err, 'ERR_MPD_UNREACHABLE')).toBe(true);
      expect(Date.now() - started).toBeLessThan(4000); // well before the 5 s command timeout
    } finally {
      await mpd.stop();
    }
  });

  it('times out a command MPD never answers with ERR_MPD_TIMEOUT and drops the connection', async () => {
    // A fake MPD: greets, answers the connect-time idle check, then goes silent.
    const sockets: Socket[] = [];
    const server: Server = createServer((socket) => {
      sockets.push(socket);
      socket.write('OK MPD 0.23.5\n');
      socket.on('data', (d) => {
        if (d.toString().includes('noidle')) socket.write('OK\n');
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const port = (server.address() as AddressInfo).port;
      // The connect (greeting, idle check) runs under the same timeout: room for a loaded machine.
      const client = await MpdClient.connect({ host: '127.0.0.1', port, timeoutMs: 2000, logger });
      const closed = new Promise<void>((resolve) => client.events.on('closed', () => resolve()));
      const err = await rejection(client.status());
      expect(isQcbError(err, 'ERR_MPD_TIMEOUT')).toBe(true);
      await closed;
      expect(client.closed).toBe(true);
    } finally {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });

  it('fails to connect to a closed port with ERR_MPD_UNREACHABLE', async () => {
    const err = await rejection(MpdClient.connect({ host: '127.0.0.1', port: 9, timeoutMs: 10_000, logger }));
    expect(isQcbError(err, 'ERR_MPD_UNREACHABLE')).toBe(true);
  });
});
