/**
 * Names shared by the mDNS TXT record and the device HTTP routes (docs/protocol.md
 * §1–§2, §4 DeviceType / AudioQuality). Wire spelling lives only in this adapter.
 */

/** §4 DeviceType and §2 AudioQuality names: the product's own, spelled once in core. */
export type { DeviceTypeName, MaxAudioQualityName } from '../core/product.js';

/** A device uuid, hyphenated 8-4-4-4-12 (TXT `device_uuid`, `serial_number`). */
export const HYPHENATED_UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
