/**
 * The product's identity, spelled once (issue #11): what Qobuz shows as brand and model, what
 * Home Assistant shows as manufacturer and origin, what the device HTTP routes answer.
 */
export const PRODUCT_NAME = 'qobuz-connect-bridge';
/** The model every player reports: the speaker behind it is an MPD. */
export const PRODUCT_MODEL = 'MPD';

/** `players[].device_type` in the config (README "Configuration reference"). */
export const DEVICE_TYPES = ['speaker', 'streamer', 'tv', 'soundbar', 'computer', 'headphones'] as const;
export type DeviceType = (typeof DEVICE_TYPES)[number];

/** Config spelling → the QConnect DeviceType name sent in mDNS TXT and get-display-info (docs/protocol.md §4). */
export const DEVICE_TYPE_NAMES = {
  speaker: 'SPEAKER',
  streamer: 'STREAMER',
  tv: 'TV',
  soundbar: 'SOUNDBAR',
  computer: 'COMPUTER',
  headphones: 'HEADPHONES',
} as const satisfies Record<DeviceType, string>;
export type DeviceTypeName = (typeof DEVICE_TYPE_NAMES)[DeviceType];

/** `qobuz.max_quality` in the config (README "Configuration reference"). */
export const QUALITIES = ['mp3', 'cd', 'hires_96', 'hires_192'] as const;
export type MaxQuality = (typeof QUALITIES)[number];

/** A player's ceiling (`players[].max_quality`, issue #23): its own when set, never above `qobuz.max_quality`. */
export function playerMaxQuality(qobuzMax: MaxQuality, playerMax: MaxQuality | null): MaxQuality {
  if (playerMax === null) return qobuzMax;
  return QUALITIES.indexOf(playerMax) < QUALITIES.indexOf(qobuzMax) ? playerMax : qobuzMax;
}

/** Config quality → the web schema's AudioQuality name get-display-info answers (docs/protocol.md §2). */
export const QUALITY_NAMES = { mp3: 'MP3', cd: 'CD', hires_96: 'HIRES_L1', hires_192: 'HIRES_L2' } as const satisfies Record<MaxQuality, string>;
export type MaxAudioQualityName = (typeof QUALITY_NAMES)[MaxQuality];
