import type { DeviceTypeName } from './device-types.js';

/** One player as mDNS sees it (docs/protocol.md §1). */
export interface AdvertisedPlayer {
  /** Our config id of the player (log field only). */
  readonly id: string;
  /** Friendly name, shown by the app (TXT `Name`). */
  readonly name: string;
  /** Hyphenated, stable device uuid (TXT `device_uuid`, path `/devices/<uuid>`). */
  readonly uuid: string;
  readonly deviceType: DeviceTypeName;
}

/** DNS limits a label to 63 bytes (RFC 1035 2.3.4); an instance name is one label. */
const MAX_LABEL_BYTES = 63;

/**
 * The DNS-SD instance name for a friendly name: ciao joins labels with '.', so a dot
 * would split the name; control characters and other punctuation upset some browsers.
 * Such characters become '-' (as several implementations do, §1); the real name stays
 * in TXT `Name`. Letters and digits of any script, spaces, `-`, `_`, `'`, `&`, `+` and
 * parentheses (ciao's own "Name (2)" renames) are kept.
 */
export function instanceNameFor(friendlyName: string): string {
  let name = friendlyName.trim().replace(/[^\p{L}\p{N} _\-'&+()]/gu, '-');
  if (name.length === 0) name = 'Qobuz-Connect';
  while (Buffer.byteLength(name, 'utf8') > MAX_LABEL_BYTES) {
    name = Array.from(name).slice(0, -1).join('');
  }
  return name;
}

/**
 * A stable, ASCII host label per player (ciao would derive one from the instance name,
 * which may be non-ASCII). The whole uuid: two players must never share a host name,
 * or ciao treats the second as a conflict and renames it.
 */
export function hostLabelFor(uuid: string): string {
  return `qcb-${uuid.replace(/-/g, '').toLowerCase()}`;
}

/** TXT keys exactly as §1 lists them. */
export function txtFor(player: AdvertisedPlayer, sdkVersion: string): Record<string, string> {
  return {
    path: `/devices/${player.uuid}`,
    type: player.deviceType,
    Name: player.name,
    device_uuid: player.uuid,
    sdk_version: sdkVersion,
  };
}
