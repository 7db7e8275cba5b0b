/**
 * What a player id may be (README "Configuration reference": `[a-z0-9_]+`), spelled once: the
 * config schema, the MQTT topics and the stream route all take it from here (issue #11).
 */
export const PLAYER_ID_PATTERN = '[a-z0-9_]+';
const PLAYER_ID = new RegExp(`^${PLAYER_ID_PATTERN}$`);

/** `B/bridge/…` and `B/session/…` are the bridge's own topics (README "MQTT topics", "The Qobuz session"). */
export const RESERVED_PLAYER_IDS: readonly string[] = ['bridge', 'session'];

function isPlayerId(id: string): boolean {
  return PLAYER_ID.test(id) && !RESERVED_PLAYER_IDS.includes(id);
}

/**
 * For components built from something other than a loaded config (tests, benches): every id well
 * formed and none twice. The config loader reports the same mistakes with their paths.
 */
export function assertPlayerIds(ids: readonly string[], owner: string): void {
  for (const id of ids)
    if (!isPlayerId(id)) throw new Error(`${owner}: player id "${id}" must match ${PLAYER_ID_PATTERN}, and not be bridge or session`);
  if (new Set(ids).size !== ids.length) throw new Error(`${owner}: player ids must be unique`);
}
