import type { PlayerCommand } from '../../core/player-view.js';
import { QcbError } from '../../core/qcb-error.js';
import { sessionIntents } from '../intents/session-intents.js';
import { transportIntents } from '../intents/transport-intents.js';
import { volumeIntents } from '../intents/volume-intents.js';
import { allEffects, inOrder, type Outcome } from '../outcome.js';
import type { SessionCore } from '../session-core.js';
import { applyQueueCommand, checkQueueCommand, type CommandContext } from './queue-commands.js';

/**
 * Commands from Home Assistant or any MQTT client (README "MQTT topics"): applied to the session
 * and reported to Qobuz exactly as if the speaker had changed by itself, so the app stays in sync.
 * Validation throws a QcbError before anything changes; then each field goes to its intent
 * (src/session/intents/), in the order below, and the command's Outcome is theirs: what Qobuz hears
 * and the speaker work the MQTT answer waits for (outside the session's loop).
 */
export function applyCommand(core: SessionCore, cmd: PlayerCommand, ctx: CommandContext): Outcome {
  checkCommand(core, cmd);
  checkQueueCommand(core, cmd, ctx);
  const parts: Outcome[] = [];
  if (cmd.volumeReport !== undefined) parts.push(volumeIntents.reported(core, cmd.volumeReport));
  if (cmd.volume !== undefined) parts.push(volumeIntents.fromMqtt(core, cmd.volume));
  if (cmd.muted !== undefined) parts.push(volumeIntents.muteFromMqtt(core, cmd.muted));
  if (cmd.shuffle !== undefined) parts.push(sessionIntents.requestShuffle(cmd.shuffle));
  if (cmd.repeat !== undefined) parts.push(sessionIntents.requestRepeat(cmd.repeat));
  if (cmd.seekMs !== undefined) parts.push(transportIntents.seek(core, cmd.seekMs));
  if (cmd.action !== undefined) parts.push(transportIntents.action(core, cmd.action));
  // Queue verbs (issue #14): controller verbs answered by the service, in queue-commands.ts.
  parts.push(core.decide(() => allEffects(applyQueueCommand(core, cmd, ctx))));
  return inOrder(...parts);
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
    // Issue #21: with the link down, a speaker still on our item is ours to seek; the rejoin reports it.
    if (!transportIntents.ownsSpeakerWhileLinkDown(core)) requireActive(core);
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
  // Issue #21: not active, but the pause or stop is ours to apply (the link dropped while we were
  // active, or our 63 waits for the service): transportIntents.silencesWhileInactive.
  if ((action === 'pause' || action === 'stop') && !transportIntents.silencesWhileInactive(core)) requireActive(core);
  if (action === 'play' && !core.playback.current && core.queue.playOrder().length === 0) {
    throw new QcbError('ERR_BAD_COMMAND', 'the Qobuz queue is empty');
  }
  if (action === 'next' || action === 'previous') transportIntents.skipTarget(core, action === 'next' ? 1 : -1);
}

function requireSession(core: SessionCore): void {
  if (core.linkState !== 'joined') throw new QcbError('ERR_NO_SESSION', 'no Qobuz session');
}

function requireActive(core: SessionCore): void {
  requireSession(core);
  if (!core.active) throw new QcbError('ERR_NOT_ACTIVE', 'another Qobuz device is playing');
}
