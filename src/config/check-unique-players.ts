import type { z } from 'zod';
import { derivePlayerUuid, playerUuid } from './player-uuid.js';

/**
 * Player ids and uuids must be unique (README.md "Configuration": ids are used in
 * topics and unique ids; the Qobuz apps tell devices apart by uuid).
 */

/** What the refinement sees: validated players, or raw input where a player failed its own checks. */
type PlayerLike = unknown;

function idOf(p: PlayerLike): string | undefined {
  return typeof p === 'object' && p !== null && 'id' in p && typeof p.id === 'string' ? p.id : undefined;
}

function uuidOf(p: PlayerLike): string | undefined {
  const id = idOf(p);
  if (id === undefined) return undefined;
  const uuid = 'uuid' in (p as object) ? (p as { uuid: unknown }).uuid : undefined;
  if (uuid === undefined || uuid === null) return playerUuid({ id });
  return typeof uuid === 'string' ? playerUuid({ id, uuid }) : undefined;
}

/** Reports the later of two players sharing `key(player)` at players[i].<field>; returns their indexes. */
function unique(
  players: readonly PlayerLike[],
  key: (p: PlayerLike) => string | undefined,
  field: string,
  ctx: z.RefinementCtx,
  skip: ReadonlySet<number> = new Set(),
): Set<number> {
  const seen = new Map<string, number>();
  const repeated = new Set<number>();
  players.forEach((p, i) => {
    const k = key(p);
    if (k === undefined) return;
    const first = seen.get(k);
    if (first === undefined) seen.set(k, i);
    else if (!skip.has(i)) {
      repeated.add(i);
      ctx.addIssue({
        code: 'custom',
        path: [i, field],
        input: k,
        message: `expected a unique ${field}, players[${first}] has it too`,
      });
    }
  });
  return repeated;
}

/** Refinement of the players list: repeated ids and uuids, each reported at the later player. */
export function checkUniquePlayers(players: readonly PlayerLike[], ctx: z.RefinementCtx): void {
  // A player whose own checks failed arrives untransformed (even as a non-object): read it defensively.
  const repeatedIds = unique(players, idOf, 'id', ctx);
  // A repeated id already explains the repeated uuid derived from it: one mistake, one line.
  const derivedFromRepeatedId = new Set(
    [...repeatedIds].filter((i) => uuidOf(players[i]) === derivePlayerUuid(idOf(players[i])!)),
  );
  unique(players, uuidOf, 'uuid', ctx, derivedFromRepeatedId);
}
