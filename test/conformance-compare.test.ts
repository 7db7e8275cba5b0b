import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { qconnect } from '../src/protocol/generated/qconnect.js';
import { FrameWriter, message } from '../src/protocol/frame-writer.js';
import { compareRecord, FramesFile } from '../scripts/conformance-frames.js';

// Frames built by our own writer only: third-party captures never enter the repository
// (docs/protocol.md "Conformance").
const b64 = (bytes: Uint8Array): string => Buffer.from(bytes).toString('base64');
const writer = new FrameWriter(() => 1_766_125_180_776);
const setState = writer.payload([message(41, { playing_state: 2, current_position: 6136 })]);
const nextAction = qconnect.Message.encode({ message_type: 24, RndrSrvrRendererAction: { action: 2 } }).finish();

const dir = mkdtempSync(join(tmpdir(), 'qcb-conformance-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('conformance comparison of a frames file (issue #21 part 3)', () => {
  it('agrees with a decoding that matches ours, field by field, with enums by name and 64-bit integers as strings', () => {
    const record = FramesFile.parse({
      frames: [
        {
          frame_base64: b64(setState),
          decoded: {
            envelope: 'payload',
            payload: {
              msg_date: '1766125180776',
              payload: { messages: [{ message_type: 41, SrvrRndrSetState: { playing_state: 'playing', current_position: 6136 } }] },
            },
          },
        },
      ],
    }).frames[0];
    expect(record).toBeDefined();
    if (!record) return;
    expect(compareRecord(record, 0)).toMatchObject({ compared: true, disagreements: [] });
  });

  it('reports each field where the source decodes differently, and an absent field unless the source says false', () => {
    const record = FramesFile.parse({
      frames: [
        {
          frame_base64: b64(setState),
          session: 's',
          step: '1',
          decoded: {
            payload: {
              payload: {
                messages: [{ message_type: 41, SrvrRndrSetState: { playing_state: 'PAUSED', current_position: 6136, seek: 1, flag: false } }],
              },
            },
          },
        },
      ],
    }).frames[0];
    if (!record) throw new Error('no record');
    const verdict = compareRecord(record, 0);
    expect(verdict.label).toBe('s: 1');
    expect(verdict.disagreements).toEqual([
      'payload.payload.messages[0].SrvrRndrSetState.playing_state: source "PAUSED", ours "PLAYING"',
      'payload.payload.messages[0].SrvrRndrSetState.seek: source 1, ours (absent)',
    ]);
  });

  it('decodes a single published message (message_base64) and reports bytes that do not decode', () => {
    const parsed = FramesFile.parse({
      frames: [
        { message_base64: b64(nextAction), decoded: { message_type: 24, RndrSrvrRendererAction: { action: 'NEXT' } } },
        { frame_base64: b64(Uint8Array.from([6, 0x7f, 1])) },
      ],
    });
    const [message24, truncated] = parsed.frames.map((r, i) => compareRecord(r, i));
    expect(message24).toMatchObject({ compared: true, disagreements: [] });
    expect(truncated?.error).toMatch(/ERR_FRAME_TRUNCATED/);
  });

  it('refuses a record with both or neither of frame_base64 and message_base64', () => {
    expect(FramesFile.safeParse({ frames: [{ decoded: {} }] }).success).toBe(false);
    expect(FramesFile.safeParse({ frames: [{ frame_base64: 'BgA=', message_base64: 'CBg=' }] }).success).toBe(false);
  });

  it('the script prints one line per disagreement and the N/M summary, and exits 1 unless all agree', () => {
    const path = join(dir, 'frames.json');
    writeFileSync(
      path,
      JSON.stringify({
        frames: [
          { frame_base64: b64(setState), decoded: { envelope: 'PAYLOAD' } },
          { message_base64: b64(nextAction), decoded: { message_type: 24, RndrSrvrRendererAction: { action: 'PREVIOUS' } } },
          { frame_base64: b64(writer.subscribe()) },
        ],
      }),
    );
    const r = spawnSync(process.execPath, ['--import', 'tsx', 'scripts/conformance-compare.ts', path], { encoding: 'utf8' });
    expect(r.status).toBe(1);
    const lines = r.stdout.trim().split('\n');
    expect(lines).toEqual([
      'frame 1 (#1): RndrSrvrRendererAction.action: source "PREVIOUS", ours "NEXT"',
      '2/3 frames agree (2 with a source decoding)',
    ]);
  });
});
