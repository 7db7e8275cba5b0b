import type { PlayerCommand } from '../core/player-view.js';
import { QcbError } from '../core/qcb-error.js';
import { qconnect } from '../protocol/generated/qconnect.js';
import { rendererAction, setActiveRenderer, volumeChanged, volumeMuted } from '../protocol/renderer-messages.js';
import type { SessionCore } from './session-core.js';

const Action = qconnect.RndrSrvrRendererAction.ActionType;

/**
 * Commands from Home Assistant or any MQTT client (SPEC.md "MQTT"): applied to the player and
 * reported to Qobuz exactly as if the speaker had changed by itself, so the app stays in sync.
 */
export async function applyCommand(core: SessionCore, cmd: PlayerCommand): Promise<void> {
  if (cmd.volume !== undefined) await setVolume(core, cmd.volume);
  if (cmd.muted !== undefined) await setMuted(core, cmd.muted);
  if (cmd.shuffle !== undefined) askService(core, cmd.shuffle ? Action.SHUFFLE_ON : Action.SHUFFLE_OFF);
  if (cmd.repeat !== undefined) {
    askService(core, cmd.repeat === 'one' ? Action.REPEAT_ONE : cmd.repeat === 'all' ? Action.REPEAT_ALL : Action.REPEAT_OFF);
  }
  if (cmd.seekMs !== undefined) await seek(core, cmd.seekMs);
  if (cmd.action !== undefined) await action(core, cmd.action);
}

async function setVolume(core: SessionCore, volume: number): Promise<void> {
  core.volume = volume;
  await core.o.player.setVolume(volume);
  if (core.active) core.send([volumeChanged(volume)]);
  core.publishView();
}

async function setMuted(core: SessionCore, muted: boolean): Promise<void> {
  core.muted = muted;
  await core.o.player.setMuted(muted);
  if (core.active) core.send([volumeMuted(muted)]);
  core.publishView();
}

/** Shuffle and repeat belong to the session: ask the service, which tells every client (§4 ActionType). */
function askService(core: SessionCore, action: qconnect.RndrSrvrRendererAction.ActionType): void {
  requireSession(core);
  core.send([rendererAction(action)]);
}

async function seek(core: SessionCore, positionMs: number): Promise<void> {
  requireActive(core);
  if (!core.current) throw new QcbError('ERR_BAD_COMMAND', 'nothing to seek in');
  core.setIntent(core.intent.status === 'stopped' ? 'paused' : core.intent.status, positionMs);
  core.reportState();
  await core.o.player.seek(positionMs);
}

async function action(core: SessionCore, name: NonNullable<PlayerCommand['action']>): Promise<void> {
  switch (name) {
    case 'play':
      return play(core);
    case 'pause':
      requireActive(core);
      core.setIntent('paused', core.positionNow());
      core.reportState();
      return core.o.player.pause();
    case 'toggle':
      return core.intent.status === 'playing' ? action(core, 'pause') : play(core);
    case 'stop':
      requireActive(core);
      core.setIntent('stopped', 0, false);
      core.reportState();
      return core.o.player.stopPlayback();
    case 'next':
      return skip(core, 1);
    case 'previous':
      return skip(core, -1);
  }
}

async function play(core: SessionCore): Promise<void> {
  if (!core.active) return revive(core);
  if (!core.current) {
    const first = core.mirror.playOrder()[0];
    if (!first) throw new QcbError('ERR_BAD_COMMAND', 'the Qobuz queue is empty');
    return core.load(first, 0, true);
  }
  if (core.intent.status === 'stopped') return core.load(core.current, 0, true, core.next);
  core.setIntent('playing', core.positionNow());
  core.reportState();
  await core.o.player.play();
}

async function skip(core: SessionCore, step: 1 | -1): Promise<void> {
  if (!core.active) return revive(core);
  const current = core.current;
  if (!current) throw new QcbError('ERR_BAD_COMMAND', 'nothing is playing');
  // "previous" past the first seconds restarts the track, as every player does.
  if (step === -1 && core.positionNow() > 3000) return seek(core, 0);
  const repeat = core.mirror.repeat === 'all' ? 'all' : 'off';
  const target = step === 1 ? core.mirror.next(current.queueItemId, repeat) : core.mirror.previous(current.queueItemId, repeat);
  if (!target) throw new QcbError('ERR_BAD_COMMAND', step === 1 ? 'already at the end of the queue' : 'already at the start');
  await core.load(target, 0, core.intent.status !== 'paused');
}

/** No active session: take playback back if we are still joined (the app sees us become active). */
function revive(core: SessionCore): void {
  requireSession(core);
  if (core.rendererId === null) throw new QcbError('ERR_NO_SESSION', 'no Qobuz session');
  core.playOnActivate = true;
  core.send([setActiveRenderer(core.rendererId)]);
}

function requireSession(core: SessionCore): void {
  if (core.linkState !== 'joined') throw new QcbError('ERR_NO_SESSION', 'no Qobuz session');
}

function requireActive(core: SessionCore): void {
  requireSession(core);
  if (!core.active) throw new QcbError('ERR_NOT_ACTIVE', 'another Qobuz device is playing');
}
