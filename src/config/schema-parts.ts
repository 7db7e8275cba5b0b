import { z } from 'zod';

/**
 * Small schema builders for config-schema.ts. Each carries its own "expected …"
 * text, which is what `check-config` prints after the path (README.md
 * "Configuration": `players[1].mpd.port: expected integer 1-65535, got "66000"`).
 */

export const expected = (text: string) => ({ error: `expected ${text}` });
export const oneOf = (values: readonly string[]) => expected(`one of ${values.join(' | ')}`);

export function intRange(min: number, max: number) {
  const e = expected(`integer ${min}-${max}`);
  return z.int(e).min(min, e).max(max, e);
}

export const nonEmpty = (what = 'a non-empty string') => z.string(expected(what)).min(1, expected(what));

/** Optional text: absent, `~` and "" all mean "not set" and come out as null. */
export const optionalText = (what = 'a string or null') =>
  z
    .string(expected(what))
    .nullable()
    .default(null)
    .transform((v) => (v === '' ? null : v));

export const ipv4 = (also = '') => z.ipv4(expected(`${also}an IPv4 address`));
export const ipAddress = () =>
  z.union([ipv4(), z.ipv6(expected('an IPv4 or IPv6 address'))], expected('an IP address'));
export const topic = () =>
  z.string().regex(/^[^/#+\s]+(\/[^/#+\s]+)*$/, expected('an MQTT topic without wildcards or outer slashes'));
