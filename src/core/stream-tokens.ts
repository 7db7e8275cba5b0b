import { randomBytes } from 'node:crypto';
import { PLAYER_ID_PATTERN } from './player-id.js';
import type { PlayableItem } from './player.js';

/**
 * Tokens of the stream route `/stream/<player>/<token>.flac` (README.md "HTTP endpoints",
 * docs/protocol.md §2): the route serves only items of that player's CURRENT queue, under
 * tokens nobody on the LAN can guess. One random token (192 bits, base64url) per queue item
 * id, stable while the item stays in the queue (MPD re-requests the same URL at every seek),
 * dead once it leaves.
 * Pure: no I/O; players never share tokens.
 */
export class StreamTokens {
  readonly #players = new Map<string, PlayerTokens>();

  /** The token of `item` in `playerId`'s queue, minted on first use. */
  tokenFor(playerId: string, item: PlayableItem): string {
    let tokens = this.#players.get(playerId);
    if (!tokens) {
      tokens = { byToken: new Map(), byItem: new Map() };
      this.#players.set(playerId, tokens);
    }
    const existing = tokens.byItem.get(item.queueItemId);
    if (existing !== undefined) {
      const known = tokens.byToken.get(existing);
      if (known && known.trackId === item.trackId) return existing;
      // Same queue item id now names another track: the old token must not play it.
      tokens.byToken.delete(existing);
    }
    const token = newToken();
    tokens.byToken.set(token, { queueItemId: item.queueItemId, trackId: item.trackId });
    tokens.byItem.set(item.queueItemId, token);
    return token;
  }

  /** The item behind a token of this player, or null (unknown, dead, or another player's). */
  lookup(playerId: string, token: string): PlayableItem | null {
    return this.#players.get(playerId)?.byToken.get(token) ?? null;
  }

  /** The queue changed: kill the tokens of items no longer in it. */
  retain(playerId: string, queueItemIds: ReadonlySet<number>): void {
    const tokens = this.#players.get(playerId);
    if (!tokens) return;
    for (const [id, token] of tokens.byItem) {
      if (queueItemIds.has(id)) continue;
      tokens.byItem.delete(id);
      tokens.byToken.delete(token);
    }
  }

  /**
   * The session ended (closed for good, or replaced by a new connect) or the queue was
   * cleared: every token of the player dies (README "HTTP endpoints": stream tokens die with their session).
   */
  clear(playerId: string): void {
    this.#players.delete(playerId);
  }

  /** Live tokens of a player: a test seam, proving tokens die with their session (README "Security"). */
  size(playerId: string): number {
    return this.#players.get(playerId)?.byToken.size ?? 0;
  }
}

interface PlayerTokens {
  readonly byToken: Map<string, PlayableItem>;
  readonly byItem: Map<number, string>;
}

/** 24 random bytes → 32 url-safe characters. */
const TOKEN_BYTES = 24;
const TOKEN_PATTERN = '[A-Za-z0-9_-]{22,64}';
const PLAYER_PATTERN = PLAYER_ID_PATTERN;
const STREAM_FILE = new RegExp(`^(${TOKEN_PATTERN})(?:\\.(?:flac|mp3))?$`);

function newToken(): string {
  return randomBytes(TOKEN_BYTES).toString('base64url');
}

export type StreamSuffix = 'flac' | 'mp3';

/** A stream path anywhere in a text (MPD error texts quote the whole URL); group 1 is all but the token. */
const STREAM_PATH_IN_TEXT = new RegExp(`(/stream/${PLAYER_PATTERN}/)${TOKEN_PATTERN}(?![A-Za-z0-9_-])`, 'g');
const TOKEN_PLACEHOLDER = '[token]';

/**
 * The text with every stream token replaced by `[token]` (`…/stream/living_room/[token].flac`):
 * MPD's error texts quote the URL it failed to open, and they reach logs and MQTT event
 * `reason`s (README "HTTP endpoints": stream tokens never appear in logs or MQTT). Linear in the text.
 */
export function stripStreamTokens(text: string): string {
  return text.includes('/stream/') ? text.replace(STREAM_PATH_IN_TEXT, `$1${TOKEN_PLACEHOLDER}`) : text;
}

/**
 * `/stream/<player>/<token>.flac`: MPD picks its decoder by Content-Type or suffix
 * (docs/protocol.md §9.2), so the stable URL carries one.
 */
export function streamPath(playerId: string, token: string, suffix: StreamSuffix = 'flac'): string {
  return `/stream/${playerId}/${token}.${suffix}`;
}

/**
 * The token in the last segment of a stream route path (`<token>.flac`, `<token>.mp3`, or the bare
 * token), as the route receives it (not decoded). Anything else is null: percent-escapes, dots,
 * characters outside the token alphabet. The caller still checks the token belongs to that player.
 */
export function parseStreamFile(file: string): string | null {
  return STREAM_FILE.exec(file)?.[1] ?? null;
}
