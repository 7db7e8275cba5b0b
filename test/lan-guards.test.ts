import { describe, expect, it } from 'vitest';
import { ConnectRateLimit, sourceAddress } from '../src/discovery/connect-rate-limit.js';
import { clientMayPublish } from '../src/mqtt/broker-acl.js';

/** Issue #26: the pure rules behind the connect rate limit and the embedded broker's ACL. */
describe('ConnectRateLimit (issue #26)', () => {
  it('allows a few connects a minute per address and player, then says how long to wait', () => {
    let now = 1_000_000;
    const limit = new ConnectRateLimit({ perWindow: 3, windowMs: 60_000, now: () => now });
    expect([1, 2, 3].map(() => limit.attempt('10.0.0.2', 'den'))).toEqual([0, 0, 0]);
    expect(limit.attempt('10.0.0.2', 'den')).toBe(60);
    expect(limit.attempt('10.0.0.2', 'kitchen')).toBe(0);
    expect(limit.attempt('10.0.0.3', 'den')).toBe(0);
    now += 30_000;
    expect(limit.attempt('10.0.0.2', 'den')).toBe(30);
    now += 30_001;
    expect(limit.attempt('10.0.0.2', 'den')).toBe(0);
  });

  it('forgets the longest-waiting address first, so a flood from many addresses holds bounded memory', () => {
    const now = 5_000;
    const limit = new ConnectRateLimit({ perWindow: 1, windowMs: 60_000, maxKeys: 100, now: () => now });
    expect(limit.attempt('victim', 'den')).toBe(0);
    expect(limit.attempt('victim', 'den')).toBeGreaterThan(0);
    for (let i = 0; i < 100; i++) limit.attempt(`10.1.${i >> 8}.${i & 255}`, 'den');
    // The first key was forgotten to keep 100: its window starts again.
    expect(limit.attempt('victim', 'den')).toBe(0);
  });

  it('reads an IPv4-mapped IPv6 peer as its IPv4 address', () => {
    expect(sourceAddress('::ffff:127.0.0.2')).toBe('127.0.0.2');
    expect(sourceAddress('fe80::1')).toBe('fe80::1');
    expect(sourceAddress(undefined)).toBe('unknown');
  });
});

describe('the embedded broker ACL for clients other than the bridge (issue #26)', () => {
  const t = { base: 'qobuz-connect', discoveryPrefix: 'homeassistant' };
  it.each([
    ['qobuz-connect/den/set', true],
    ['homeassistant/status', true],
    ['my/own/topic', true],
    ['qobuz-connect-other/den/state', true],
    ['qobuz-connect/den/state', false],
    ['qobuz-connect/den/set/result', false],
    ['qobuz-connect/bridge/state', false],
    ['qobuz-connect//set', false],
    ['qobuz-connect/set', false],
    ['qobuz-connect', false],
    ['homeassistant/device/x/config', false],
    ['homeassistant/media_player/x/config', false],
    ['homeassistant', false],
    ['$SYS/broker/clients', false],
  ])('%s: %s', (topic, allowed) => {
    expect(clientMayPublish(topic, t)).toBe(allowed);
  });

  it('keeps commands open when the base topic sits under the discovery prefix', () => {
    const nested = { base: 'homeassistant/qcb', discoveryPrefix: 'homeassistant' };
    expect(clientMayPublish('homeassistant/qcb/den/set', nested)).toBe(true);
    expect(clientMayPublish('homeassistant/qcb/den/state', nested)).toBe(false);
    expect(clientMayPublish('homeassistant/device/x/config', nested)).toBe(false);
  });
});
