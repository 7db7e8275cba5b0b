/**
 * Issue #21 ("every failure is visible"): the forms a secret could take in a recording or a
 * bug-report bundle. A bundle passes when none of them appears anywhere in its text.
 */

/** Base64 of `value` as it appears inside a longer base64 text, at each of the three byte alignments. */
function base64Inside(value: Buffer, url: boolean): string[] {
  const out: string[] = [];
  for (let pad = 0; pad < 3; pad++) {
    const text = Buffer.concat([Buffer.alloc(pad), value]).toString(url ? 'base64url' : 'base64').replace(/=+$/, '');
    // The first group mixes padding and value when pad > 0, the last one may be partial: drop both.
    const start = pad === 0 ? 0 : 4;
    const end = text.length - (text.length % 4 === 0 ? 4 : text.length % 4);
    if (end - start >= 8) out.push(text.slice(start, end));
  }
  return out;
}

/** Every form of `secret` we look for: plain, base64 and base64url (any alignment), URL-encoded, hex, JSON-escaped. */
export function encodingsOf(secret: string): string[] {
  const bytes = Buffer.from(secret, 'utf8');
  const forms = new Set<string>([
    secret,
    ...base64Inside(bytes, false),
    ...base64Inside(bytes, true),
    encodeURIComponent(secret),
    new URLSearchParams({ x: secret }).toString().slice(2),
    bytes.toString('hex'),
    bytes.toString('hex').toUpperCase(),
    JSON.stringify(secret).slice(1, -1),
    JSON.stringify(JSON.stringify(secret)).slice(3, -3),
  ]);
  return [...forms].filter((f) => f.length >= 8);
}

/** Each secret (by its label) found in `text` in some form, with the form that matched. */
export function leaks(text: string, secrets: Readonly<Record<string, readonly string[]>>): string[] {
  const found: string[] = [];
  for (const [label, values] of Object.entries(secrets)) {
    for (const value of values) {
      for (const form of encodingsOf(value)) if (text.includes(form)) found.push(`${label}: ${form.slice(0, 24)}…`);
    }
  }
  return found;
}
