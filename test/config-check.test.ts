import { describe, expect, it } from 'vitest';
import { checkConfig } from '../src/config/check-config.js';

const fixture = (name: string) => new URL(`./fixtures/config/${name}`, import.meta.url).pathname;
const example = new URL('../config.example.yaml', import.meta.url).pathname;

describe('checkConfig for `check-config FILE` (README.md "Command line")', () => {
  it('reports five mistakes as exactly five lines, each starting with its path', () => {
    const result = checkConfig(fixture('five-mistakes.yaml'), {});
    expect(result.ok).toBe(false);
    expect(result.lines).toEqual([
      'http.port: expected integer 0-65535, got "70000"',
      'mqtt.base_topik: unknown key; did you mean "base_topic"?',
      'players[0].device_type: expected one of speaker | streamer | tv | soundbar | computer | headphones, got "speakr"; did you mean "speaker"?',
      'players[1].id: expected an id of a-z, 0-9 and _, got "Kitchen!"',
      'players[1].mpd.port: expected integer 1-65535, got "66000"',
    ]);
  });

  it('also reports the environment overrides it is given', () => {
    const result = checkConfig(fixture('five-mistakes.yaml'), { QCB_MQTT__DISCOVERY: 'maybe' });
    expect(result.lines).toHaveLength(6);
    expect(result.lines).toContain(
      'mqtt.discovery: expected true or false, got string "maybe" (from QCB_MQTT__DISCOVERY)',
    );
  });

  it('accepts config.example.yaml: two players, embedded broker', () => {
    const result = checkConfig(example, {});
    expect(result).toEqual({
      ok: true,
      lines: [
        `${example}: valid; players: living_room (11f97d04-519d-59a5-a42a-544a6f891472), kitchen (ddeab936-8719-5bae-b8a0-f9d11059a6d4); MQTT: embedded broker on 127.0.0.1:1883`,
      ],
    });
  });

  it('reports duplicate player ids at the second occurrence', () => {
    const result = checkConfig(fixture('minimal.yaml'), {
      QCB_PLAYERS__1__ID: 'living_room',
      QCB_PLAYERS__1__NAME: 'Twin',
    });
    expect(result).toEqual({
      ok: false,
      lines: [
        'players[1].id: expected a unique id, players[0] has it too, got "living_room" (from QCB_PLAYERS__1__ID)',
      ],
    });
  });
});
