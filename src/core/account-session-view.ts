import type { TrackInfo, ViewPlaybackState } from './player-view.js';

/**
 * What the bridge tells the outside world about the account's whole Qobuz Connect session
 * (README "The Qobuz session", issue #24), and what it accepts: one view for all of a bridge's
 * players, built by the account-level owner. Field names are TypeScript's; the MQTT adapter owns
 * the wire spelling.
 */

/** A renderer of the session: a phone, a Connect speaker we do not drive, or one of our players. */
export interface SessionDeviceView {
  readonly rendererId: number;
  readonly name: string;
  /** Unique among the session's devices: the name, or "name (renderer id)" when two share it. */
  readonly label: string;
  readonly type: string | null;
  /** The configured player id when the device is one of this bridge's players. */
  readonly playerId: string | null;
}

/** The active device and what it plays, from its last report (82). */
export interface ActiveDeviceView extends SessionDeviceView {
  readonly state: ViewPlaybackState;
  readonly positionMs: number;
  /** Epoch ms at which `positionMs` held. */
  readonly positionAtMs: number;
  readonly durationMs: number | null;
  readonly queueItemId: number | null;
  readonly track: TrackInfo | null;
  /** False while the service says the active device lost its connection. */
  readonly connected: boolean;
}

export interface AccountSessionView {
  /** The session uuid, null while no player of this bridge is in a session (or before the service named it). */
  readonly sessionId: string | null;
  /** The player whose link answers for the session (README "The Qobuz session"); null: no player is in one. */
  readonly via: string | null;
  readonly devices: readonly SessionDeviceView[];
  readonly active: ActiveDeviceView | null;
}

export const NO_SESSION: AccountSessionView = { sessionId: null, via: null, devices: [], active: null };

type AccountSessionEventType = 'device_joined' | 'device_left' | 'active_device_changed';

export interface AccountSessionEvent {
  readonly type: AccountSessionEventType;
  readonly atMs: number;
  readonly fields: Readonly<Record<string, unknown>>;
}

/** A command on `B/session/set`; exactly one verb. */
export type AccountSessionCommand =
  /** Move playback to this device: its label, name or renderer id. */
  | { readonly playOn: string }
  /** Pause (true) or resume (false) whatever device is active. */
  | { readonly pause: boolean };

/** Carries a session command to the owner; rejects with a QcbError (ERR_NOT_FOUND, ERR_NO_SESSION …). */
export type AccountSessionSink = (command: AccountSessionCommand) => Promise<void>;

/** The outward port the MQTT adapter implements for the session. */
export interface AccountSessionPublisher {
  publishSessionState(view: AccountSessionView): void;
  publishSessionEvent(event: AccountSessionEvent): void;
}
