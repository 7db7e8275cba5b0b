import { isIPv4 } from 'node:net';
import { networkInterfaces as osNetworkInterfaces, type NetworkInterfaceInfo } from 'node:os';
import { QcbError } from '../core/qcb-error.js';

type InterfaceTable = NodeJS.Dict<NetworkInterfaceInfo[]>;

/**
 * The IPv4 address put into our mDNS A records (docs/protocol.md §1: "an IPv4
 * address the phone can reach (never loopback)").
 *
 * - an explicit address is used as is (it must be IPv4);
 * - `'auto'` picks the first non-internal IPv4 of the allowed interfaces (all when
 *   `interfaces` is null); loopback only when it is the only IPv4 there is.
 *
 * `table` defaults to `os.networkInterfaces()` (tests pass their own).
 */
export function resolveAdvertiseAddress(
  setting: 'auto' | string,
  interfaces: readonly string[] | null,
  table: InterfaceTable = osNetworkInterfaces(),
): string {
  if (setting !== 'auto') {
    if (!isIPv4(setting)) {
      throw new QcbError('ERR_CONFIG_INVALID', `advertise address ${JSON.stringify(setting)} is not an IPv4 address`);
    }
    return setting;
  }
  const names = interfaces ?? Object.keys(table);
  const external: string[] = [];
  const internal: string[] = [];
  for (const name of names) {
    for (const info of table[name] ?? []) {
      // Node 18.0–18.3 reported family as a number; accept both spellings.
      const family: unknown = info.family;
      if (family !== 'IPv4' && family !== 4) continue;
      (info.internal ? internal : external).push(info.address);
    }
  }
  const picked = external[0] ?? internal[0];
  if (picked === undefined) {
    const where = interfaces ? `interfaces ${interfaces.join(', ')}` : 'any interface';
    throw new QcbError('ERR_CONFIG_INVALID', `no IPv4 address found on ${where} to advertise`);
  }
  return picked;
}
