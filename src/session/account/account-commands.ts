import type { AccountSessionCommand, AccountSessionView, SessionDeviceView } from '../../core/account-session-view.js';
import { QcbError } from '../../core/qcb-error.js';
import type { SessionController } from '../../core/session-observer.js';

/**
 * The commands of `B/session/set` (README "The Qobuz session", issue #24; docs/protocol.md §8
 * "The account's session"): `play_on` moves playback to any renderer of the session with 63 from
 * the link that answers for the session, done once the service names it active (86); `pause`
 * pauses (or resumes) whatever renderer is active with 62, done once its report (82) says so.
 * Everything that can be refused (no session, an unknown device) is refused before anything is
 * sent, so a refused command changes nothing.
 */

/** What the commands need of the account-level owner. */
export interface AccountCommandHost {
  /** Runs `fn` as one step of the owner's loop and resolves with what it returns. */
  inLoop<T>(fn: () => T): Promise<T>;
  /** The view as published now. */
  view(): AccountSessionView;
  /** The link that answers for the session, null when no player is in one. */
  answerer(): Answerer | null;
  /** How many service errors the player's link has had (a refusal is one more). */
  errorCount(playerId: string): number;
  lastError(playerId: string): string;
  /**
   * Resolves with the first truthy value of `probe`, checked in the owner's loop now and after
   * every fact; ERR_TIMEOUT naming `what`, also in a step of the loop. Call it from outside the loop.
   */
  until<T>(probe: () => T | null | undefined | false, timeoutMs: number, what: string): Promise<T>;
  readonly stepTimeoutMs: number;
}

interface Answerer {
  readonly playerId: string;
  readonly controller: SessionController;
}

/** A command decided in a step of the owner's loop: the verb to send, then the state that answers it. */
interface Planned {
  send(): Promise<void>;
  answered(): boolean;
  readonly what: string;
}

/**
 * The decision (what to send, or a refusal, or nothing to do) is taken in one step of the owner's
 * loop; the verb then runs in the answering player's loop, and the wait for its answer is the
 * owner's (docs/architecture.md "The account's session").
 */
export async function runAccountCommand(host: AccountCommandHost, command: AccountSessionCommand): Promise<void> {
  const planned = await host.inLoop(() => plan(host, command));
  if (!planned) return;
  await planned.send();
  await host.until(() => planned.answered(), host.stepTimeoutMs, planned.what);
}

function plan(host: AccountCommandHost, command: AccountSessionCommand): Planned | null {
  const via = host.answerer();
  if (!via)
    throw new QcbError('ERR_NO_SESSION', 'no player of this bridge is in the Qobuz session of the account');
  return 'playOn' in command ? playOn(host, via, command.playOn) : pause(host, via, command.pause);
}

function playOn(host: AccountCommandHost, via: Answerer, target: string): Planned | null {
  const view = host.view();
  const device = findDevice(view.devices, target);
  if (!device) {
    const known = view.devices.map((d) => `"${d.label}"`).join(', ');
    throw new QcbError('ERR_NOT_FOUND', `no device "${target}" in the Qobuz session (devices: ${known || 'none'})`);
  }
  if (view.active?.rendererId === device.rendererId) return null; // already playing there: nothing to move
  const errors = host.errorCount(via.playerId);
  return {
    send: () => via.controller.setActiveRenderer(device.rendererId),
    answered: () => {
      if (host.view().active?.rendererId === device.rendererId) return true;
      refused(host, via.playerId, errors);
      lost(host, via.playerId);
      return false;
    },
    what: `the Qobuz service naming "${device.label}" the active device`,
  };
}

function pause(host: AccountCommandHost, via: Answerer, paused: boolean): Planned | null {
  const active = host.view().active;
  if (!active) {
    if (paused) return null; // nothing plays anywhere: paused already
    throw new QcbError('ERR_NOT_FOUND', 'nothing to resume: no device of the Qobuz session is active');
  }
  if ((active.state === 'playing') !== paused) return null; // already as asked
  const errors = host.errorCount(via.playerId);
  return {
    send: () => via.controller.setPlaying(!paused),
    answered: () => {
      const now = host.view().active;
      // The active device went (or changed): it no longer plays what was asked to pause.
      if (!now || now.rendererId !== active.rendererId) {
        if (paused) return true;
      } else if ((now.state === 'playing') !== paused) return true;
      refused(host, via.playerId, errors);
      lost(host, via.playerId);
      return false;
    },
    what: `"${active.label}" ${paused ? 'pausing' : 'playing'}`,
  };
}

/** A label, a name (when unique) or a renderer id; names compare without case. */
function findDevice(devices: readonly SessionDeviceView[], target: string): SessionDeviceView | null {
  const t = target.trim();
  const byLabel = devices.find((d) => d.label === t) ?? devices.find((d) => d.label.toLowerCase() === t.toLowerCase());
  if (byLabel) return byLabel;
  const byName = devices.filter((d) => d.name.toLowerCase() === t.toLowerCase());
  if (byName.length === 1) return byName[0]!;
  if (/^\d+$/.test(t)) return devices.find((d) => d.rendererId === Number(t)) ?? null;
  return devices.find((d) => d.playerId === t) ?? null;
}

/** The service answered the link with an error since the verb left: a refusal (docs/protocol.md §5.13). */
function refused(host: AccountCommandHost, playerId: string, before: number): void {
  if (host.errorCount(playerId) > before)
    throw new QcbError('ERR_QOBUZ_REFUSED', `the Qobuz service refused: ${host.lastError(playerId)}`);
}

/** The link that carried the verb no longer answers for the session. */
function lost(host: AccountCommandHost, playerId: string): void {
  if (host.answerer()?.playerId !== playerId)
    throw new QcbError('ERR_SESSION_CLOSED', 'the Qobuz link that carried the command ended before the answer');
}
