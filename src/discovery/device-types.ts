/**
 * Names shared by the mDNS TXT record and the device HTTP routes (docs/protocol.md
 * §1–§2, §4 DeviceType / AudioQuality). Wire spelling lives only in this adapter.
 */

/** §4 DeviceType names, as sent in TXT `type` and get-display-info `type`. */
export type DeviceTypeName =
  | 'SPEAKER'
  | 'STREAMER'
  | 'TV'
  | 'SOUNDBAR'
  | 'COMPUTER'
  | 'MOBILE'
  | 'CAST'
  | 'HEADPHONES'
  | 'TABLET';

/** get-display-info `max_audio_quality`: the web schema's AudioQuality names (§2). */
export type MaxAudioQualityName = 'MP3' | 'CD' | 'HIRES_L1' | 'HIRES_L2';

/** A device uuid, hyphenated 8-4-4-4-12 (TXT `device_uuid`, `serial_number`). */
export const HYPHENATED_UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
