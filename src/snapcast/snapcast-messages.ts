import { z } from 'zod';

/**
 * snapserver's JSON-RPC as we read it (control protocol version 1, snapserver 0.26): every line
 * parsed with zod, so a reply of the wrong shape is an error, never a crash. Only the fields the
 * volume needs are read; unknown fields are ignored (newer servers add some).
 */

const rpcLine = z.union([
  z.object({ id: z.number().int().nullable(), error: z.object({ message: z.string().optional(), data: z.unknown().optional() }) }),
  z.object({ id: z.number().int(), result: z.unknown() }),
  z.object({ method: z.string(), params: z.unknown().optional() }),
]);

export type RpcLine =
  | { readonly kind: 'result'; readonly id: number; readonly result: unknown }
  | { readonly kind: 'error'; readonly id: number | null; readonly message: string }
  | { readonly kind: 'notification'; readonly method: string; readonly params: unknown }
  | { readonly kind: 'invalid'; readonly reason: string };

export function parseRpcLine(line: string): RpcLine {
  let json: unknown;
  try {
    json = JSON.parse(line);
  } catch {
    return { kind: 'invalid', reason: 'not JSON' };
  }
  const parsed = rpcLine.safeParse(json);
  if (!parsed.success) return { kind: 'invalid', reason: 'not a JSON-RPC answer or notification' };
  const m = parsed.data;
  if ('error' in m) {
    const data = typeof m.error.data === 'string' ? `: ${m.error.data}` : '';
    return { kind: 'error', id: m.id, message: `${m.error.message ?? 'error'}${data}` };
  }
  if ('result' in m) return { kind: 'result', id: m.id, result: m.result };
  return { kind: 'notification', method: m.method, params: m.params };
}

const volume = z.object({ percent: z.number().min(0).max(100), muted: z.boolean() });

const client = z.object({
  id: z.string(),
  connected: z.boolean(),
  config: z.object({ volume, name: z.string().optional() }),
  host: z.object({ name: z.string().optional() }).optional(),
});

const group = z.object({
  id: z.string(),
  name: z.string().optional(),
  stream_id: z.string(),
  muted: z.boolean(),
  clients: z.array(client),
});

const server = z.object({ groups: z.array(group) });

export type SnapClient = z.infer<typeof client>;
export type SnapGroup = z.infer<typeof group>;
export type SnapServer = z.infer<typeof server>;

/** `Server.GetStatus`'s result: `{server: {groups: […]}}`; null when it is not that. */
export function parseServerStatus(result: unknown): SnapServer | null {
  const parsed = z.object({ server }).safeParse(result);
  return parsed.success ? parsed.data.server : null;
}

/** `Client.SetVolume`'s result: `{volume: {percent, muted}}`. */
export function parseVolumeResult(result: unknown): z.infer<typeof volume> | null {
  const parsed = z.object({ volume }).safeParse(result);
  return parsed.success ? parsed.data.volume : null;
}

/** The notifications the volume follows; anything else (or a malformed one) is null. */
export type SnapNotification =
  | { readonly type: 'clientVolume'; readonly id: string; readonly percent: number; readonly muted: boolean }
  | { readonly type: 'groupMute'; readonly id: string; readonly muted: boolean }
  | { readonly type: 'server'; readonly server: SnapServer }
  /** Membership or streams changed (a client came or went, a group changed stream or clients): read the status again. */
  | { readonly type: 'refresh' };

const REFRESH = new Set([
  'Client.OnConnect',
  'Client.OnDisconnect',
  'Group.OnStreamChanged',
  'Group.OnNameChanged',
  'Client.OnNameChanged',
]);

export function parseNotification(method: string, params: unknown): SnapNotification | null {
  if (method === 'Client.OnVolumeChanged') {
    const p = z.object({ id: z.string(), volume }).safeParse(params);
    return p.success ? { type: 'clientVolume', id: p.data.id, percent: p.data.volume.percent, muted: p.data.volume.muted } : null;
  }
  if (method === 'Group.OnMute') {
    const p = z.object({ id: z.string(), mute: z.boolean() }).safeParse(params);
    return p.success ? { type: 'groupMute', id: p.data.id, muted: p.data.mute } : null;
  }
  if (method === 'Server.OnUpdate') {
    const p = z.object({ server }).safeParse(params);
    return p.success ? { type: 'server', server: p.data.server } : { type: 'refresh' };
  }
  return REFRESH.has(method) ? { type: 'refresh' } : null;
}
