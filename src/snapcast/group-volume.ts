import type { SnapClient, SnapGroup, SnapServer } from './snapcast-messages.js';

/**
 * The volume of what a player follows in Snapcast (docs/architecture.md "Snapcast"). Snapcast has
 * a volume per client and a mute per group, no group volume; like Snapcast's own web UI we give a
 * group the mean of its clients' volumes, and move a group's volume by moving each client in
 * proportion: up, each closes the same share of its distance to 100; down, each keeps the same
 * share of its level. Rooms keep their balance, and a room at 0 or 100 stays within range. Pure.
 */

export interface Follow {
  /** A group's id or name. */
  readonly group: string | null;
  /** A stream id: every group playing it. */
  readonly stream: string | null;
}

/** The groups followed: the named group, or every group on the stream. */
export function followedGroups(server: SnapServer, follow: Follow): SnapGroup[] {
  if (follow.group !== null) {
    const byId = server.groups.filter((g) => g.id === follow.group);
    return byId.length > 0 ? byId : server.groups.filter((g) => g.name === follow.group);
  }
  return server.groups.filter((g) => g.stream_id === follow.stream);
}

/** The clients whose volume counts: the connected ones (a room switched off keeps its level for when it is back). */
export function activeClients(groups: readonly SnapGroup[]): SnapClient[] {
  const all = groups.flatMap((g) => g.clients);
  const on = all.filter((c) => c.connected);
  return on.length > 0 ? on : all;
}

/** Mean volume of the clients (rounded), null without any; muted when every followed group is muted. */
export function groupVolume(groups: readonly SnapGroup[]): { readonly percent: number | null; readonly muted: boolean } {
  const clients = activeClients(groups);
  const percent = clients.length === 0 ? null : Math.round(mean(clients.map((c) => c.config.volume.percent)));
  return { percent, muted: groups.length > 0 && groups.every((g) => g.muted) };
}

/** Each client's new volume for the group to go from its mean to `target` (0-100). */
export function scaledVolumes(clients: readonly { readonly id: string; readonly percent: number }[], target: number): Map<string, number> {
  const out = new Map<string, number>();
  if (clients.length === 0) return out;
  const t = clamp(target);
  const m = mean(clients.map((c) => c.percent));
  for (const c of clients) {
    let v: number;
    if (t >= m) v = m >= 100 ? 100 : c.percent + ((100 - c.percent) * (t - m)) / (100 - m);
    else v = m <= 0 ? 0 : (c.percent * t) / m;
    out.set(c.id, clamp(Math.round(v)));
  }
  return out;
}

function mean(values: readonly number[]): number {
  return values.reduce((a, b) => a + b, 0) / values.length;
}

function clamp(v: number): number {
  return Math.max(0, Math.min(100, v));
}
