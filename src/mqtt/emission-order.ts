import type { Aedes } from 'aedes';

/**
 * aedes (1.1-2.0 beta, measured) numbers a publish when it arrives, stores a retained one before
 * emitting it (one promise tick later), and drops at each client any packet numbered below the
 * last it forwarded to that client (its per-client de-duplication). So a retained publish followed
 * at once by a plain one (the bridge's `state`, then `set/result` or `event`) reaches a client
 * subscribed to both in the wrong order, and the retained one is then dropped: Home Assistant,
 * or `B/#`, never saw the new state live (docs/architecture.md "The embedded broker").
 *
 * Numbering each packet again as it is emitted makes the numbers follow the order of emission;
 * the de-duplication still folds the copies one packet makes for overlapping subscriptions.
 * Returns false, changing nothing, when the broker does not have the shape this relies on.
 */
export function numberAtEmission(broker: Aedes): boolean {
  const b = broker as unknown as { id?: unknown; counter?: unknown; mq?: { emit?: unknown } };
  const mq = b.mq;
  if (typeof b.id !== 'string' || typeof b.counter !== 'number' || typeof mq?.emit !== 'function') return false;
  const emit = (mq.emit as (packet: EmittedPacket, cb?: () => void) => void).bind(mq);
  const counted = b as { counter: number };
  mq.emit = (packet: EmittedPacket, cb?: () => void) => {
    // Ours only: a packet from another broker of a cluster keeps its own numbering.
    if (packet.brokerId === b.id) packet.brokerCounter = ++counted.counter;
    emit(packet, cb);
  };
  return true;
}

interface EmittedPacket {
  brokerId?: string | null;
  brokerCounter?: number;
}
