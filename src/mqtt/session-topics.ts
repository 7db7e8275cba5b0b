/**
 * The account's Qobuz session on MQTT (README "The Qobuz session", issue #24): `B/session/state`
 * and `B/session/cover_url` retained, `B/session/event`, and the commands of `B/session/set`,
 * each answered on `B/session/set/result`. One instance per bridge, fed by the one account-level
 * owner, so there is exactly one copy of the session however many players the bridge has.
 */
import type { Logger } from 'pino';
import type {
  AccountSessionEvent,
  AccountSessionSink,
  AccountSessionView,
} from '../core/account-session-view.js';
import { errorMessage, isQcbError } from '../core/qcb-error.js';
import type { Redactor } from '../util/redactor.js';
import { SerialQueue } from '../util/serial-queue.js';
import type { MqttLink } from './mqtt-link.js';
import { parseSessionCommand } from './session-command-parser.js';
import { toSessionEventPayload, toSessionStatePayload } from './session-payload.js';
import type { Topics } from './topics.js';

export interface SessionTopicsOptions {
  readonly link: MqttLink;
  readonly topics: Topics;
  readonly redactor: Redactor;
  readonly logger: Logger;
  /** Where commands go; null without a user token (every command answered ERR_NO_USER_TOKEN). */
  readonly onCommand: AccountSessionSink | null;
  /** Publishes discovery again (the "Play on" select's options follow the devices). */
  readonly discoveryChanged: () => Promise<unknown>;
}

export class SessionTopics {
  readonly #o: SessionTopicsOptions;
  readonly #out = new SerialQueue();
  readonly #commands = new SerialQueue();
  #state: string | undefined;
  #sentState: string | undefined;
  #cover: string | undefined;
  #sentCover: string | undefined;
  #labels: readonly string[] = [];

  constructor(options: SessionTopicsOptions) {
    this.#o = options;
  }

  /** The session's devices as the "Play on" select offers them. */
  get labels(): readonly string[] {
    return this.#labels;
  }

  publishState(view: AccountSessionView): void {
    const labels = view.devices.map((d) => d.label);
    const relabelled = labels.join('\n') !== this.#labels.join('\n');
    this.#labels = labels;
    this.#state = this.#o.redactor.scrubKnown(JSON.stringify(toSessionStatePayload(view)));
    const cover = view.active?.track?.coverUrl;
    // No cover: the last one stays, as on the players' cover topics (an empty URL makes HA's image entity log errors).
    if (cover) this.#cover = this.#o.redactor.scrubKnown(cover);
    this.#out
      .run(async () => {
        // The select's options first, so Home Assistant never reads a state naming a device it does not offer.
        if (relabelled) await this.#o.discoveryChanged();
        this.flush(false);
      })
      .catch((err: unknown) => this.#o.logger.warn({ err: errorMessage(err) }, 'session state not published'));
  }

  publishEvent(event: AccountSessionEvent): void {
    const json = this.#o.redactor.scrubKnown(JSON.stringify(toSessionEventPayload(event)));
    void this.#out.run(() => this.#o.link.publish(this.#o.topics.session('event'), json));
  }

  /** Sends state and cover when they differ from what went out (all of it with `force`: after a reconnect). */
  flush(force: boolean): void {
    const { link, topics } = this.#o;
    if (this.#state !== undefined && (force || this.#state !== this.#sentState)) {
      this.#sentState = this.#state;
      void link.publish(topics.session('state'), this.#state, { retain: true });
    }
    if (this.#cover !== undefined && (force || this.#cover !== this.#sentCover)) {
      this.#sentCover = this.#cover;
      void link.publish(topics.session('cover_url'), this.#cover, { retain: true });
    }
  }

  /** One command of `B/session/set`, answered on `B/session/set/result` in the order they came. */
  command(payload: Buffer, retained: boolean): void {
    const parsed = parseSessionCommand(payload);
    const echo = parsed.id !== undefined ? { id: parsed.id } : {};
    const answer = (result: { ok: true } | { ok: false; error: string; code: string }) =>
      void this.#o.link.publish(
        this.#o.topics.sessionSetResult,
        JSON.stringify(result.ok ? { ok: true, ...echo } : { ...result, error: this.#o.redactor.scrubString(result.error), ...echo }),
      );
    if (retained) return answer({ ok: false, error: 'retained commands are ignored; publish without the retain flag', code: 'ERR_BAD_COMMAND' });
    if (!parsed.ok) return answer({ ok: false, error: parsed.error, code: 'ERR_BAD_COMMAND' });
    const sink = this.#o.onCommand;
    if (!sink)
      return answer({ ok: false, error: "the account's session needs qobuz.user_auth_token", code: 'ERR_NO_USER_TOKEN' });
    void this.#commands.run(async () => {
      try {
        await sink(parsed.command);
        answer({ ok: true });
      } catch (err) {
        const code = isQcbError(err) ? err.code : 'ERR_INTERNAL';
        this.#o.logger.info({ command: parsed.command, error: errorMessage(err), code }, 'session command failed');
        answer({ ok: false, error: errorMessage(err), code });
      }
    });
  }
}
