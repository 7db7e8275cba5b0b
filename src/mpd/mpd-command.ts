import type { Logger } from 'pino';
import { errorMessage, isQcbError } from '../core/qcb-error.js';
import type { SerialQueue } from '../util/serial-queue.js';
import type { MpdClient } from './mpd-client.js';
import type { TransportGate, TransportTicket } from './mpd-transport-gate.js';

/** What a command does with MPD while it is there. */
export type MpdOnline = (client: MpdClient) => Promise<void>;

/** What a command needs of the MpdPlayer it runs for. */
export interface MpdCommandHost {
  readonly queue: SerialQueue;
  readonly gate: TransportGate;
  readonly log: Logger;
  /** The command connection while MPD is available, else null. */
  client(): MpdClient | null;
  sync(client: MpdClient, force: boolean): Promise<void>;
  emitState(force: boolean): void;
}

/**
 * One MpdPlayer command, run in the player's serial queue (docs/conventions.md principle 4): skipped
 * in its turn when a newer transport command makes it pointless (TransportGate); while MPD is away
 * (or lost during the command) only `offline` runs, updating what a reconnect restores.
 */
export function runMpdCommand(
  h: MpdCommandHost,
  name: string,
  online: MpdOnline,
  offline: () => unknown,
  transport?: TransportTicket,
): Promise<void> {
  return h.queue.run(async () => {
    if (transport?.superseded()) {
      h.log.debug({ command: name }, 'skipped: a newer command replaces it');
      h.gate.applied(transport);
      return;
    }
    // Applied from here on: the snapshot the sync below emits is settled unless newer commands wait.
    const applied = () => transport && h.gate.applied(transport);
    const client = h.client();
    if (client) {
      try {
        await online(client);
        applied();
        await h.sync(client, true);
        return;
      } catch (err) {
        applied();
        if (!isQcbError(err, 'ERR_MPD_UNREACHABLE') && !isQcbError(err, 'ERR_MPD_TIMEOUT')) {
          // MPD refused (e.g. a seek whose Range request failed): report what it did anyway.
          await h.sync(client, true).catch(() => {});
          throw err;
        }
        h.log.warn(
          { command: name, err: errorMessage(err) },
          'mpd lost during a command; kept for the reconnect',
        );
      }
    }
    offline();
    applied();
    h.emitState(true);
  });
}

/**
 * A `.catch` that puts the player's own state back before passing the failure on: what MPD refused
 * (or never heard; `offline` then applies it again for the reconnect) must not stay in the snapshot.
 */
export function undoing(undo: () => void): (err: unknown) => never {
  return (err) => {
    undo();
    throw err;
  };
}
