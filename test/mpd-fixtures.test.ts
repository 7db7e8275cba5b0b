import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeFlac } from './support/audio-fixtures.js';
import { AudioHttpServer, parseRange } from './support/audio-http-server.js';

// The test support the MPD tests (and the simulated Qobuz CDN) stand on, checked by itself.

const run = promisify(execFile);
let dir: string;
let cdn: AudioHttpServer;
let file: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'qcb-fixtures-'));
  file = await makeFlac({ dir, name: 'tone.flac', seconds: 1, sampleRate: 96_000, bitDepth: 24 });
  cdn = new AudioHttpServer();
  await cdn.start();
  cdn.add('/a.flac', file);
});

afterAll(async () => {
  await cdn?.stop();
  await rm(dir, { recursive: true, force: true });
});

describe('FLAC fixtures', () => {
  it('writes a real FLAC file with the asked format that the flac tool verifies', async () => {
    const bytes = await readFile(file);
    expect(bytes.subarray(0, 4).toString('ascii')).toBe('fLaC');
    await run('/usr/bin/flac', ['--test', '--silent', file]);
    const { stdout } = await run('/usr/bin/metaflac', [
      '--show-sample-rate',
      '--show-bps',
      '--show-channels',
      '--show-total-samples',
      file,
    ]);
    expect(stdout.trim().split('\n')).toEqual(['96000', '24', '2', '96000']);
  });

  it('reuses one encode for the same parameters under another name', async () => {
    const again = await makeFlac({ dir, name: 'copy.flac', seconds: 1, sampleRate: 96_000, bitDepth: 24 });
    expect(again).toBe(join(dir, 'copy.flac'));
    expect(Buffer.compare(await readFile(again), await readFile(file))).toBe(0);
  });
});

describe('AudioHttpServer', () => {
  it('serves the whole file with Accept-Ranges, type and length', async () => {
    const size = (await readFile(file)).length;
    const res = await fetch(cdn.url('/a.flac'));
    expect(res.status).toBe(200);
    expect(res.headers.get('accept-ranges')).toBe('bytes');
    expect(res.headers.get('content-type')).toBe('audio/flac');
    expect(Number(res.headers.get('content-length'))).toBe(size);
    expect((await res.arrayBuffer()).byteLength).toBe(size);
  });

  it('answers a single Range with 206 and exactly those bytes, and HEAD without a body', async () => {
    const bytes = await readFile(file);
    const res = await fetch(cdn.url('/a.flac'), { headers: { Range: 'bytes=10-19' } });
    expect(res.status).toBe(206);
    expect(res.headers.get('content-range')).toBe(`bytes 10-19/${bytes.length}`);
    expect(Buffer.from(await res.arrayBuffer())).toEqual(bytes.subarray(10, 20));
    const head = await fetch(cdn.url('/a.flac'), { method: 'HEAD' });
    expect(head.status).toBe(200);
    expect(Number(head.headers.get('content-length'))).toBe(bytes.length);
    const bad = await fetch(cdn.url('/a.flac'), { headers: { Range: `bytes=${bytes.length + 5}-` } });
    expect(bad.status).toBe(416);
    expect(cdn.requestsFor('/a.flac').map((r) => r.status)).toEqual([200, 206, 200, 416]);
  });

  it('fails a path on demand, heals it, and redirects aliases', async () => {
    cdn.fail('/a.flac', 403);
    expect((await fetch(cdn.url('/a.flac'))).status).toBe(403);
    cdn.fail('/a.flac', null);
    cdn.redirect('/alias.flac', cdn.url('/a.flac'));
    const manual = await fetch(cdn.url('/alias.flac'), { redirect: 'manual' });
    expect(manual.status).toBe(302);
    expect(manual.headers.get('location')).toBe(cdn.url('/a.flac'));
    expect((await fetch(cdn.url('/alias.flac'))).status).toBe(200);
    expect((await fetch(cdn.url('/missing.flac'))).status).toBe(404);
  });

  it('parses single byte ranges and refuses what it cannot serve', () => {
    expect(parseRange('bytes=0-', 100)).toEqual({ start: 0, end: 99 });
    expect(parseRange('bytes=-10', 100)).toEqual({ start: 90, end: 99 });
    expect(parseRange('bytes=50-500', 100)).toEqual({ start: 50, end: 99 });
    expect(parseRange('bytes=0-1,5-6', 100)).toBeNull();
    expect(parseRange('bytes=100-', 100)).toBeNull();
  });
});
