import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { FrameWriter, message } from '../src/protocol/frame-writer.js';

function cli(args: string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, ['--import', 'tsx', 'src/main.ts', ...args], { encoding: 'utf8' });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('qobuz-connect-bridge decode (README.md "Command line")', () => {
  it('prints one JSON object per frame, from hex and from base64, with enums by name', () => {
    const frame = new FrameWriter(() => 1_766_125_180_776).payload([message(41, { playing_state: 3, current_position: 5000 })]);
    const hex = Buffer.from(frame).toString('hex');
    const b64 = Buffer.from(frame).toString('base64');
    const r = cli(['decode', hex, b64]);
    expect(r.status).toBe(0);
    const lines = r.stdout.trim().split('\n').map((l) => JSON.parse(l) as unknown);
    expect(lines).toHaveLength(2);
    expect(lines[0]).toEqual(lines[1]);
    expect(lines[0]).toMatchObject({
      envelope: 'PAYLOAD',
      payload: {
        proto: 1,
        dests: ['02'],
        msg_date: 1_766_125_180_776,
        payload: { messages: [{ message_type: 41, SrvrRndrSetState: { playing_state: 'PAUSED', current_position: 5000 } }] },
      },
    });
  });

  it('answers {"error": …} for a frame that cannot be decoded and exits 1 after printing the rest', () => {
    const good = Buffer.from(new FrameWriter(() => 1).subscribe()).toString('hex');
    const r = cli(['decode', '06ff01', good]);
    expect(r.status).toBe(1);
    const [bad, ok] = r.stdout.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(String(bad?.error)).toMatch(/ERR_FRAME_TRUNCATED/);
    expect(ok?.envelope).toBe('SUBSCRIBE');
  });

  it('prints its version and help', () => {
    expect(cli(['--version']).stdout.trim()).toMatch(/^\d+\.\d+\.\d+/);
    const help = cli(['--help']);
    expect(help.status).toBe(0);
    expect(help.stdout).toContain('decode FRAME...');
    expect(help.stdout).toContain('check-config FILE');
  });
});
