import type { PlayableItem } from '../../core/player.js';
import type { PlayerCommand } from '../../core/player-view.js';
import { QcbError } from '../../core/qcb-error.js';
import { qconnect } from '../../protocol/generated/qconnect.js';
import { rendererAction, volumeChanged, volumeMuted } from '../../protocol/renderer-messages.js';
import { applyQueueCommand, checkQueueCommand, type CommandContext } from './queue-commands.js';
import type { Effect, SessionCore } from '../session-core.js';
import { requestExternalVolume, volumeReported } from './volume-commands.js';

const Action = qconnect.RndrSrvrRendererAction.ActionType;

/**
 * Commands from Home Assistant or any MQTT client (README "MQTT topics"): applied to the session
 * and reported to Qobuz exactly as if the speaker had changed by itself, so the app stays in sync.
 * Validation throws a QcbError before anything changes; the returned effects are what the speaker
 * still has to do, which the MQTT answer waits for (outside the session's loop).
 */
export function applyCommand(core: SessionCore, cmd: PlayerCommand, ctx: CommandContext): Effect[] {
  checkCommand(core, cmd);
  checkQueueCommand(core, cmd, ctx);
  const effects: Effect[] = [];
  if (cmd.volumeReport !== undefined) volumeReported(core, cmd.volumeReport);
  if (cmd.volume !== undefined && core.playback.external) {
    effects.push(requestExternalVolume(core, { volume: cmd.volume }, 'mqtt'));
  } else if (cmd.volume !== undefined) {
    effects.push(core.playback.setVolume(cmd.volume));
    if (core.active) core.send([volumeChanged(core.playback.volume)]);
  }
  if (cmd.muted !== undefined) {
    effects.push(core.playback.setMuted(cmd.muted));
    if (core.active) core.send([volumeMuted(core.playback.muted)]);
  }
  // Shuffle and repeat belong to the session: ask the service, which tells every client (docs/protocol.md §4 ActionType).
  if (cmd.shuffle !== undefined)
    core.send([rendererAction(cmd.shuffle ? Action.SHUFFLE_ON : Action.SHUFFLE_OFF)]);
  if (cmd.repeat !== undefined) {
    core.send([
      rendererAction(
        cmd.repeat === 'one'
          ? Action.REPEAT_ONE
          : cmd.repeat === 'all'
            ? Action.REPEAT_ALL
            : Action.REPEAT_OFF,
      ),
    ]);
  }
  if (cmd.seekMs !== undefined) effects.push(core.playback.seek(cmd.seekMs));
  if (cmd.action !== undefined) effects.push(action(core, cmd.action));
  // Queue verbs (issue #14): controller verbs answered by the service, in queue-commands.ts.
  effects.push(...applyQueueCommand(core, cmd, ctx));
  return effects;
}

/** Every check before any change, so a refused command changes nothing (README "Bad input"). */
function checkCommand(core: SessionCore, cmd: PlayerCommand): void {
  // README "Volume modes": a fixed volume belongs to the amplifier; the command changes nothing.
  if ((cmd.volume !== undefined || cmd.muted !== undefined) && core.playback.volumeFixed)
    throw new QcbError('ERR_VOLUME_FIXED', 'volume is fixed on this player (players[].volume.mode: fixed)');
  if (cmd.volumeReport !== undefined && !core.playback.external)
    throw new QcbError('ERR_BAD_COMMAND', 'volume_report is for players[].volume.mode: external');
  if (cmd.muted !== undefined && core.playback.external)
    throw new QcbError('ERR_BAD_COMMAND', "with an external volume, mute is the amplifier's: ask its automation, or send volume 0");
  if (cmd.shuffle !== undefined || cmd.repeat !== undefined) requireSession(core);
  if (cmd.seekMs !== undefined) {
    requireActive(core);
    if (!core.playback.current) throw new QcbError('ERR_BAD_COMMAND', 'nothing to seek in');
  }
  if (cmd.action === undefined) return;
  const action =
    cmd.action === 'toggle' ? (core.playback.status === 'playing' ? 'pause' : 'play') : cmd.action;
  const revives = !core.active && action !== 'pause' && action !== 'stop';
  if (revives) {
    requireSession(core);
    if (core.rendererId === null) throw new QcbError('ERR_NO_SESSION', 'no Qobuz session');
    return;
  }
  if (action === 'pause' || action === 'stop') requireActive(core);
  if (action === 'play' && !core.playback.current && core.queue.playOrder().length === 0) {
    throw new QcbError('ERR_BAD_COMMAND', 'the Qobuz queue is empty');
  }
  if (action === 'next' || action === 'previous') skipTarget(core, action === 'next' ? 1 : -1);
}

function action(core: SessionCore, name: NonNullable<PlayerCommand['action']>): Effect {
  if (!core.active && name !== 'pause' && name !== 'stop' && !core.activation.resumeAfterStepAside()) {
    // No active session: take playback back while still joined (the app sees us become active).
    core.activation.request();
    return null;
  }
  switch (name) {
    case 'play':
      return play(core);
    case 'pause':
      return core.playback.setPlaying(false);
    case 'toggle':
      return core.playback.status === 'playing' ? core.playback.setPlaying(false) : play(core);
    case 'stop':
      return core.playback.stop();
    case 'next':
    case 'previous': {
      const target = skipTarget(core, name === 'next' ? 1 : -1);
      return target === 'restart'
        ? core.playback.seek(0)
        : core.playback.load(target, 0, core.playback.status !== 'paused');
    }
  }
}

function play(core: SessionCore): Effect {
  const current = core.playback.current;
  if (!current) {
    const first = core.queue.playOrder()[0];
    return first ? core.playback.load(first, 0, true) : null;
  }
  if (core.playback.status === 'stopped')
    return core.playback.load(current, 0, true, { next: core.playback.next });
  return core.playback.setPlaying(true);
}

/** Where next / previous go; "previous" past the first seconds restarts the track, as every player does. */
function skipTarget(core: SessionCore, step: 1 | -1): PlayableItem | 'restart' {
  const current = core.playback.current;
  if (!current) throw new QcbError('ERR_BAD_COMMAND', 'nothing is playing');
  if (step === -1 && core.playback.positionNow() > 3000) return 'restart';
  const repeat = core.queue.repeat === 'all' ? 'all' : 'off';
  const target =
    step === 1
      ? core.queue.next(current.queueItemId, repeat)
      : core.queue.previous(current.queueItemId, repeat);
  if (!target)
    throw new QcbError(
      'ERR_BAD_COMMAND',
      step === 1 ? 'already at the end of the queue' : 'already at the start',
    );
  return target;
}

function requireSession(core: SessionCore): void {
  if (core.linkState !== 'joined') throw new QcbError('ERR_NO_SESSION', 'no Qobuz session');
}

function requireActive(core: SessionCore): void {
  requireSession(core);
  if (!core.active) throw new QcbError('ERR_NOT_ACTIVE', 'another Qobuz device is playing');
}
