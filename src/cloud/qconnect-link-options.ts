import type { Logger } from 'pino';
import type { LinkToken } from '../core/link-token.js';
import type { QconnectTap } from '../core/wire-tap.js';
import type { QcMessage } from '../protocol/frame-codec.js';

/** What a QconnectLink (qconnect-link.ts) is built with, the states it goes through and what it tells its owner. */

export interface QconnectLinkOptions {
  readonly endpoint: string;
  readonly jwt: string;
  /** Token expiry, epoch ms: no reconnect after it (§5.12). */
  readonly expiresAtMs: number;
  readonly logger: Logger;
  readonly userAgent?: string;
  readonly backoffStepsMs?: readonly number[];
  /** WebSocket ping period; a link with no frame and no pong for `deadAfterMs` is dropped. */
  readonly pingIntervalMs?: number;
  readonly deadAfterMs?: number;
  readonly connectTimeoutMs?: number;
  readonly now?: () => number;
  /**
   * Mints a fresh WebSocket token (`qws/createToken` with a user token, docs/protocol.md §8); with
   * it a reconnect that finds the token expired renews it instead of giving up (§5.12).
   */
  readonly renewToken?: () => Promise<LinkToken>;
  /**
   * With `renewToken`: mint the next token this long before the current one expires (default
   * 5 min, at most half its lifetime), so a reconnect never waits for a renewal (§8).
   */
  readonly renewAheadMs?: number;
  /** Sees every binary message sent and received (README "Reporting a problem"); never throws into the link. */
  readonly tap?: QconnectTap;
}


export type LinkState = 'connecting' | 'open' | 'waiting' | 'closed';

export interface QconnectLinkEvents {
  [event: string]: unknown[];
  /** Authenticated and subscribed; `reconnection` is true after a drop (§5.12: rejoin in the background). */
  connected: [info: { reconnection: boolean }];
  /** One batch from the service, in order. */
  messages: [messages: QcMessage[]];
  /** The socket went down; a reconnect follows when `willReconnect`. */
  disconnected: [info: { willReconnect: boolean; reason: string }];
  /** Given up for good (token expired, Disconnect{reconnect=false}, or close()). */
  closed: [reason: string];
  /** A fresh token is in hand (`ahead`: minted before the old one expired, on a live link). */
  tokenRenewed: [info: { ahead: boolean; expiresAtMs: number }];
  framesIn: [count: number];
  framesOut: [count: number];
}
