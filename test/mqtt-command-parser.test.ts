import { describe, expect, it } from 'vitest';
import { MAX_COMMAND_BYTES, parseCommand } from '../src/mqtt/command-parser.js';

describe('parseCommand (README.md "MQTT topics", commands on B/<player>/set)', () => {
  it.each([
    ['{"action":"play"}', { action: 'play' }],
    ['{"action":"toggle"}', { action: 'toggle' }],
    ['{"action":"previous"}', { action: 'previous' }],
    ['{"seek_ms":60000}', { seekMs: 60000 }],
    ['{"seek_ms":0}', { seekMs: 0 }],
    ['{"volume":40}', { volume: 40 }],
    ['{"volume":0}', { volume: 0 }],
    ['{"volume":100}', { volume: 100 }],
    ['{"volume":40.6}', { volume: 41 }],
    ['{"muted":true}', { muted: true }],
    ['{"shuffle":false}', { shuffle: false }],
    ['{"repeat":"all"}', { repeat: 'all' }],
    ['{"action":"play","volume":25,"repeat":"one","shuffle":true}', { action: 'play', volume: 25, repeat: 'one', shuffle: true }],
    // Queue verbs (issue #14).
    ['{"play_item":0}', { playItem: 0 }],
    ['{"play_item":17}', { playItem: 17 }],
    ['{"queue_add":{"type":"album","id":"0060254728578"}}', { queueAdd: { kind: 'album', id: '0060254728578', next: false } }],
    ['{"queue_add":{"type":"playlist","id":1234567,"next":true}}', { queueAdd: { kind: 'playlist', id: '1234567', next: true } }],
    ['{"queue_add":{"type":"track","id":"5000","next":false}}', { queueAdd: { kind: 'track', id: '5000', next: false } }],
    ['{"queue_clear":true}', { queueClear: true }],
  ])('accepts %s', (payload, command) => {
    expect(parseCommand(Buffer.from(payload))).toEqual({ ok: true, command });
  });

  it.each([
    ['not json', /not valid JSON/],
    ['', /not valid JSON/],
    ['[]', /JSON object/],
    ['42', /JSON object/],
    ['null', /JSON object/],
    ['{}', /empty command/],
    ['{"action":"dance"}', /^action: must be one of play, pause, toggle, stop, next, previous$/],
    ['{"action":1}', /^action:/],
    ['{"volume":150}', /^volume: must be 0-100$/],
    ['{"volume":-1}', /^volume: must be 0-100$/],
    ['{"volume":"40"}', /^volume: must be a number/],
    ['{"seek_ms":-1}', /^seek_ms: must be >= 0$/],
    ['{"seek_ms":1.5}', /^seek_ms: must be a whole number/],
    ['{"muted":"yes"}', /^muted: must be true or false$/],
    ['{"shuffle":1}', /^shuffle: must be true or false$/],
    ['{"repeat":"track"}', /^repeat: must be one of off, one, all$/],
    ['{"colour":"red"}', /^unknown key \(by position: #1\); known keys: action, seek_ms, volume/],
    ['{"action":"play","bogus":1,"other":2}', /^unknown keys \(by position: #2, #3\); known keys: action,/],
    ['{"play_item":-1}', /^play_item: must be >= 0$/],
    ['{"play_item":"3"}', /^play_item: must be a queue item id/],
    ['{"play_item":1.5}', /^play_item: must be a queue item id/],
    ['{"queue_add":{"type":"artist","id":"1"}}', /^queue_add\.type: must be one of album, playlist, track$/],
    ['{"queue_add":{"type":"album"}}', /^queue_add\.id: must be a Qobuz id/],
    ['{"queue_add":{"type":"album","id":"../../etc"}}', /^queue_add\.id: must be a Qobuz id/],
    ['{"queue_add":{"type":"album","id":"x","next":"yes"}}', /^queue_add\.next: must be true or false$/],
    ['{"queue_add":{"type":"album","id":"x","shuffle":true}}', /^queue_add: unknown key \(by position: #3\); known keys: type, id, next$/],
    ['{"queue_add":"album"}', /^queue_add: must be an object/],
    ['{"queue_clear":false}', /^queue_clear: must be true$/],
  ])('refuses %s with a readable error', (payload, error) => {
    const result = parseCommand(payload);
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.error).toMatch(error);
  });

  it('names unknown keys by position, never by their text, so a guessed secret is not confirmed (issue #26)', () => {
    for (const payload of ['{"k4711":1}', '{"action":"play","k4711":true}', '{"queue_add":{"type":"album","id":"1","k4711":1}}', '{"play_media":{"type":"album","id":"0123456789","k4711":1}}']) {
      const result = parseCommand(payload);
      expect(result.ok, payload).toBe(false);
      if (!result.ok) {
        expect(result.error, payload).not.toMatch(/k4711|4711|k\[/);
        expect(result.error, payload).toMatch(/unknown key \(by position: #\d\)/);
      }
      }
    });

  it('reads the amplifier\'s {"volume_report": n} as a whole percent and refuses one out of range (issue #23)', () => {
    expect(parseCommand(Buffer.from('{"volume_report": 36.6}'))).toEqual({ ok: true, command: { volumeReport: 37 } });
    for (const bad of ['{"volume_report": 101}', '{"volume_report": -1}', '{"volume_report": "37"}']) {
      const r = parseCommand(Buffer.from(bad));
      expect(r.ok).toBe(false);
    }
  });

  it('refuses a payload over 64 KiB before parsing it', () => {
    const big = Buffer.from(JSON.stringify({ action: 'play', pad: 'x'.repeat(MAX_COMMAND_BYTES) }));
    const result = parseCommand(big);
    expect(result).toEqual({ ok: false, error: `payload too large: ${big.length} bytes (max 65536)` });
  });
});
