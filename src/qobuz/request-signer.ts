import { createHash } from 'node:crypto';

/**
 * Qobuz request signature (docs/protocol.md §7 "Signing"): md5 hex of
 * object + method with the slashes removed (`trackgetFileUrl`, `sessionstart`), then every
 * signed parameter as key + value sorted by key, then `request_ts`, then the app secret.
 *
 * Pure: no clock, no I/O. The caller chooses which parameters are signed (getFileUrl signs
 * format_id, intent and track_id; session/start signs profile).
 */
export function signRequest(
  object: string,
  method: string,
  params: Readonly<Record<string, string | number>>,
  tsSeconds: number,
  appSecret: string,
): string {
  const name = `${object}${method}`.replace(/\//g, '');
  const keys = Object.keys(params).sort();
  let text = name;
  for (const key of keys) text += `${key}${String(params[key])}`;
  text += `${tsSeconds}${appSecret}`;
  return createHash('md5').update(text, 'utf8').digest('hex');
}
