/**
 * Leaves nothing behind (README "MQTT topics", issue #24): at start the bridge looks at what is
 * retained under its base topic one level below a player (`B/<segment>/<leaf>`: state,
 * availability, queue, cover_url, and whatever else was retained there) and clears, with an empty
 * retained message, every topic of a segment that is neither a configured player nor the bridge's
 * own (`bridge`, and `session` while the session device is offered). Only that depth is looked
 * at: another bridge's base topic below ours (`B/other`) holds its topics one level deeper, so
 * they are never touched. Bounded in time like the discovery sweep.
 */
import type { Logger } from 'pino';
import type { MqttLink } from './mqtt-link.js';
import type { Topics } from './topics.js';

export interface RetainedSweepOptions {
  readonly link: MqttLink;
  readonly topics: Topics;
  /** Segments to keep: the configured player ids and the bridge's own. */
  readonly keep: ReadonlySet<string>;
  readonly logger: Logger;
  /** Retained messages arrive right after SUBACK; this much silence ends the look (default 300 ms). */
  readonly quietMs?: number;
  /** Upper bound of the look (default 3 s). */
  readonly maxMs?: number;
}

/** Returns the topics it cleared. */
export async function sweepRetained(o: RetainedSweepOptions): Promise<string[]> {
  const { link, topics } = o;
  const found = new Set<string>();
  const seen = { lastAt: 0 };
  const onMessage = (topic: string, payload: Buffer, retained: boolean): void => {
    if (!retained) return;
    const segment = topics.parseSegment(topic);
    if (segment === null) return;
    seen.lastAt = Date.now();
    if (payload.length > 0 && !o.keep.has(segment)) found.add(topic);
  };
  const wildcard = topics.segmentWildcard;
  link.on('message', onMessage);
  try {
    if (!(await link.subscribe([wildcard]))) return [];
    seen.lastAt = Date.now();
    const start = Date.now();
    const quietMs = o.quietMs ?? 300;
    const maxMs = o.maxMs ?? 3000;
    while (Date.now() - seen.lastAt < quietMs && Date.now() - start < maxMs) {
      await new Promise((r) => setTimeout(r, Math.min(50, quietMs)));
    }
  } finally {
    link.off('message', onMessage);
    await link.unsubscribe([wildcard]);
  }
  const cleared: string[] = [];
  for (const topic of found) if (await link.publish(topic, '', { retain: true, qos: 1 })) cleared.push(topic);
  if (cleared.length > 0) o.logger.info({ cleared }, 'cleared retained topics of players no longer configured');
  return cleared;
}
