import { describe, expect, it } from 'vitest';
import { ConfigSchema } from '../src/config/config-schema.js';
import { playerMaxQuality } from '../src/core/product.js';

/** Issue #23: `players[].max_quality`, for a speaker that cannot take 24/192, capped by `qobuz.max_quality`. */
describe('a player\'s own quality ceiling (issue #23)', () => {
  it('takes the lower of the player\'s and the bridge\'s ceiling, and the bridge\'s when the player sets none', () => {
    expect(playerMaxQuality('hires_192', 'cd')).toBe('cd');
    expect(playerMaxQuality('hires_192', 'hires_96')).toBe('hires_96');
    expect(playerMaxQuality('cd', 'hires_192')).toBe('cd');
    expect(playerMaxQuality('hires_96', null)).toBe('hires_96');
    expect(playerMaxQuality('mp3', 'mp3')).toBe('mp3');
  });

  it('reads players[].max_quality from the config, null by default, and refuses an unknown quality', () => {
    const base = { players: [{ id: 'a', name: 'A', max_quality: 'hires_96' }, { id: 'b', name: 'B' }] };
    const c = ConfigSchema.parse(base);
    expect(c.players.map((p) => p.max_quality)).toEqual(['hires_96', null]);
    const bad = ConfigSchema.safeParse({ players: [{ id: 'a', name: 'A', max_quality: '24/192' }] });
    expect(bad.success).toBe(false);
    expect(JSON.stringify(bad.error?.issues[0]?.path)).toBe('["players",0,"max_quality"]');
  });
});
