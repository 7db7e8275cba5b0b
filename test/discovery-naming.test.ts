import type { NetworkInterfaceInfo } from 'node:os';
import { describe, expect, it } from 'vitest';
import { isQcbError } from '../src/core/qcb-error.js';
import { endpointRefusal } from '../src/discovery/endpoint-check.js';
import { resolveAdvertiseAddress } from '../src/discovery/resolve-advertise-address.js';
import { instanceNameFor, txtFor } from '../src/discovery/service-identity.js';

function info(address: string, internal: boolean, family: 'IPv4' | 'IPv6' = 'IPv4'): NetworkInterfaceInfo {
  const base = { address, netmask: '255.0.0.0', mac: '00:00:00:00:00:00', internal, cidr: null };
  return family === 'IPv4' ? { ...base, family } : { ...base, family, scopeid: 0 };
}

const table = {
  lo: [info('127.0.0.1', true), info('::1', true, 'IPv6')],
  eth0: [info('fd00::2', false, 'IPv6'), info('192.168.1.20', false)],
  wlan0: [info('10.0.0.7', false)],
};

describe('resolveAdvertiseAddress (docs/protocol.md §1: an IPv4 the phone can reach)', () => {
  it('picks the first non-internal IPv4 of all interfaces when none are configured', () => {
    expect(resolveAdvertiseAddress('auto', null, table)).toBe('192.168.1.20');
  });

  it('picks only among the allowed interfaces', () => {
    expect(resolveAdvertiseAddress('auto', ['wlan0'], table)).toBe('10.0.0.7');
    expect(resolveAdvertiseAddress('auto', ['lo', 'wlan0'], table)).toBe('10.0.0.7');
  });

  it('falls back to loopback only when it is the only IPv4 there is', () => {
    expect(resolveAdvertiseAddress('auto', ['lo'], table)).toBe('127.0.0.1');
  });

  it('uses an explicit address as is and refuses a non-IPv4 one', () => {
    expect(resolveAdvertiseAddress('192.0.2.99', ['lo'], table)).toBe('192.0.2.99');
    expect(() => resolveAdvertiseAddress('fe80::1', null, table)).toThrow(/not an IPv4/);
  });

  it('fails with ERR_CONFIG_INVALID when the allowed interfaces have no IPv4', () => {
    let caught: unknown;
    try {
      resolveAdvertiseAddress('auto', ['eth9'], table);
    } catch (err) {
      caught = err;
    }
    expect(isQcbError(caught, 'ERR_CONFIG_INVALID')).toBe(true);
  });
});

describe('instance names and TXT (docs/protocol.md §1)', () => {
  it('replaces characters DNS-SD dislikes with "-" and keeps the rest', () => {
    expect(instanceNameFor('Living.Room')).toBe('Living-Room');
    expect(instanceNameFor('Küche / Bad')).toBe('Küche - Bad');
    expect(instanceNameFor('Tom\'s (2)')).toBe("Tom's (2)");
    expect(instanceNameFor('  ')).toBe('Qobuz-Connect');
  });

  it('keeps an instance name within one 63-byte DNS label', () => {
    const name = instanceNameFor('ü'.repeat(60));
    expect(Buffer.byteLength(name)).toBeLessThanOrEqual(63);
    expect(name).toBe('ü'.repeat(31));
  });

  it('builds exactly the five TXT keys', () => {
    const uuid = '0a1b2c3d-0000-4000-8000-00000000abcd';
    expect(txtFor({ id: 'k', name: 'Kitchen.1', uuid, deviceType: 'SPEAKER' }, '0.9.6')).toEqual({
      path: `/devices/${uuid}`,
      type: 'SPEAKER',
      Name: 'Kitchen.1',
      device_uuid: uuid,
      sdk_version: '0.9.6',
    });
  });
});

describe('connect endpoint allow-list (docs/protocol.md §2)', () => {
  const allowed = ['*.qobuz.com', 'localhost', '127.0.0.1', '::1'];

  it('matches *.qobuz.com against subdomains only and exact names exactly', () => {
    const hostMatches = (host: string, pattern: string) => endpointRefusal(`wss://${host}/ws`, [pattern]) === null;
    expect(hostMatches('qws-eu-prod.qobuz.com', '*.qobuz.com')).toBe(true);
    expect(hostMatches('a.b.qobuz.com', '*.qobuz.com')).toBe(true);
    expect(hostMatches('qobuz.com', '*.qobuz.com')).toBe(false);
    expect(hostMatches('evilqobuz.com', '*.qobuz.com')).toBe(false);
    expect(hostMatches('QWS.QOBUZ.COM.', '*.qobuz.com')).toBe(true);
    expect(hostMatches('qobuz.com', 'qobuz.com')).toBe(true);
    expect(hostMatches('www.qobuz.com', 'qobuz.com')).toBe(false);
  });

  it('allows wss to allowed hosts, ws only to loopback, and nothing else', () => {
    expect(endpointRefusal('wss://qws-eu-prod.qobuz.com/ws', allowed)).toBeNull();
    expect(endpointRefusal('ws://127.0.0.1:8080/ws', allowed)).toBeNull();
    expect(endpointRefusal('ws://localhost:8080/ws', allowed)).toBeNull();
    expect(endpointRefusal('ws://[::1]:8080/ws', allowed)).toBeNull();
    expect(endpointRefusal('ws://qws-eu-prod.qobuz.com/ws', allowed)).toMatch(/scheme ws/);
    expect(endpointRefusal('https://qws-eu-prod.qobuz.com/ws', allowed)).toMatch(/scheme https/);
    expect(endpointRefusal('wss://127.0.0.2/ws', allowed)).toMatch(/host 127\.0\.0\.2 is not allowed/);
    expect(endpointRefusal('wss://user:pw@evil.example/ws', allowed)).toMatch(/host evil\.example/);
  });
});
