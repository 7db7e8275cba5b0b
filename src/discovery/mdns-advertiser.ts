import type { EventEmitter } from 'node:events';
import { isIPv4 } from 'node:net';
import { networkInterfaces } from 'node:os';
import { getResponder, type CiaoService, type Responder, type ServiceOptions } from '@homebridge/ciao';
import type { Logger } from 'pino';
import { QcbError, errorMessage } from '../core/qcb-error.js';
import { HYPHENATED_UUID } from './device-types.js';
import { hostLabelFor, instanceNameFor, txtFor, type AdvertisedPlayer } from './service-identity.js';

export type { AdvertisedPlayer } from './service-identity.js';

export interface MdnsAdvertiserOptions {
  readonly players: readonly AdvertisedPlayer[];
  /** The port of the one HTTP server (HttpServer.port). */
  readonly port: number;
  /** Resolved IPv4 for the A records (see resolveAdvertiseAddress). */
  readonly advertiseAddress: string;
  /** Interface names to advertise on; null = every interface ciao tracks. */
  readonly interfaces: readonly string[] | null;
  /** TXT `sdk_version` (§1: apps ignore < 0.9.5). */
  readonly sdkVersion?: string;
  /** Each service is re-announced on its own this often (§1: ~5 s). */
  readonly reannounceIntervalMs?: number;
  readonly logger: Logger;
}

const SERVICE_TYPE = 'qobuz-connect';
/** ciao's internal event behind updateTxt(): Responder.handleServiceRecordUpdate broadcasts it. */
const RECORDS_UPDATE = 'records-update';

interface Advertised {
  readonly player: AdvertisedPlayer;
  readonly service: CiaoService;
  instance: string;
}

/**
 * Advertises one `_qobuz-connect._tcp` service per player (docs/protocol.md §1)
 * with @homebridge/ciao, restricted to the given interfaces and IPv4 address.
 */
export class MdnsAdvertiser {
  readonly #opts: Required<Omit<MdnsAdvertiserOptions, 'interfaces'>> & Pick<MdnsAdvertiserOptions, 'interfaces'>;
  readonly #log: Logger;
  #responder: Responder | null = null;
  #advertised: Advertised[] = [];
  #timer: NodeJS.Timeout | null = null;
  #nextIndex = 0;

  constructor(options: MdnsAdvertiserOptions) {
    const uuids = new Set<string>();
    for (const p of options.players) {
      if (!HYPHENATED_UUID.test(p.uuid)) throw new QcbError('ERR_CONFIG_INVALID', `player ${p.id}: uuid must be hyphenated`);
      if (uuids.has(p.uuid.toLowerCase())) throw new QcbError('ERR_CONFIG_INVALID', `player ${p.id}: duplicate uuid`);
      uuids.add(p.uuid.toLowerCase());
    }
    if (!Number.isInteger(options.port) || options.port <= 0 || options.port > 65535) {
      throw new QcbError('ERR_CONFIG_INVALID', `mDNS: invalid port ${options.port}`);
    }
    if (!isIPv4(options.advertiseAddress)) {
      throw new QcbError('ERR_CONFIG_INVALID', `mDNS: advertise address ${options.advertiseAddress} is not IPv4`);
    }
    this.#opts = { sdkVersion: '0.9.6', reannounceIntervalMs: 5000, ...options };
    this.#log = options.logger.child({ module: 'mdns' });
  }

  /** Current instance names by player id (they change when ciao resolves a conflict): a test seam. */
  instanceNames(): ReadonlyMap<string, string> {
    return new Map(this.#advertised.map((a) => [a.player.id, a.instance]));
  }

  /** Probes and announces every service; resolves once each is announced or has failed (logged). */
  async start(): Promise<void> {
    if (this.#responder) throw new QcbError('ERR_MDNS', 'mDNS advertiser already started');
    const { interfaces } = this.#opts;
    // A copy: ciao's NetworkManager pushes the loopback name into the array it is given.
    this.#responder = getResponder({ ...(interfaces ? { interface: [...interfaces] } : {}), disableIpv6: true });
    const responder = this.#responder;
    const restricted = this.#restriction();
    this.#advertised = this.#opts.players.map((player) => ({
      player,
      service: responder.createService(this.#serviceOptions(player, restricted)),
      instance: instanceNameFor(player.name),
    }));
    for (const a of this.#advertised) {
      // §1 and ciao README: conflicts rename the service ("Name (2)"); the app finds it by uuid.
      a.service.on('name-change', (name: string) => {
        this.#log.warn({ player: a.player.id, from: a.instance, to: name }, 'mDNS name conflict: service renamed');
        a.instance = name;
      });
    }
    const results = await Promise.allSettled(this.#advertised.map((a) => a.service.advertise()));
    let announced = 0;
    results.forEach((r, i) => {
      const a = this.#advertised[i];
      if (!a) return;
      if (r.status === 'fulfilled') {
        announced += 1;
        this.#log.info(
          { player: a.player.id, instance: a.instance, address: this.#opts.advertiseAddress, port: this.#opts.port },
          'mDNS service announced',
        );
      } else {
        this.#log.error({ player: a.player.id, err: errorMessage(r.reason) }, 'mDNS service could not be announced');
      }
    });
    if (announced === 0 && this.#advertised.length > 0) {
      await this.stop();
      throw new QcbError('ERR_MDNS', 'no mDNS service could be announced');
    }
    this.#scheduleReannouncements();
  }

  /** Sends goodbyes (TTL 0) for every service and releases the responder. */
  async stop(): Promise<void> {
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = null;
    const responder = this.#responder;
    this.#responder = null;
    if (!responder) return;
    // Goodbyes per service first: ciao shares one Responder between callers with equal
    // options, and its shutdown() only unpublishes when the last user lets go.
    const ended = await Promise.allSettled(this.#advertised.map((a) => a.service.destroy()));
    ended.forEach((r, i) => {
      if (r.status === 'rejected') {
        this.#log.warn({ player: this.#advertised[i]?.player.id, err: errorMessage(r.reason) }, 'mDNS goodbye failed');
      }
    });
    this.#advertised = [];
    try {
      await responder.shutdown();
    } catch (err) {
      this.#log.warn({ err: errorMessage(err) }, 'mDNS shutdown failed');
    }
    this.#log.info('mDNS services withdrawn');
  }

  /**
   * ciao can restrict a service to an address only if that address lives on a local
   * interface; a configured address that does not (NAT, container) falls back to the
   * interface restriction, and the A record then carries the interface's own address.
   */
  #restriction(): string[] | undefined {
    const { advertiseAddress, interfaces } = this.#opts;
    const owner = Object.entries(networkInterfaces()).find(([, infos]) => infos?.some((i) => i.address === advertiseAddress))?.[0];
    if (owner === undefined) {
      this.#log.warn({ address: advertiseAddress }, 'advertise address is not local: restricting by interface only');
      return interfaces ? [...interfaces] : undefined;
    }
    if (interfaces && !interfaces.includes(owner)) {
      this.#log.warn({ address: advertiseAddress, interface: owner, interfaces }, 'advertise address is not on an allowed interface: nothing will be announced');
    }
    return [advertiseAddress];
  }

  #serviceOptions(player: AdvertisedPlayer, restrictedAddresses: string[] | undefined): ServiceOptions {
    return {
      name: instanceNameFor(player.name),
      type: SERVICE_TYPE,
      port: this.#opts.port,
      hostname: hostLabelFor(player.uuid),
      txt: txtFor(player, this.#opts.sdkVersion),
      disabledIpv6: true,
      ...(restrictedAddresses ? { restrictedAddresses } : {}),
    };
  }

  /**
   * §1: the app reads only the first PTR of a batched answer, so every service is also
   * announced in a packet of its own. One timer walks the services round-robin, so each
   * is re-announced every `reannounceIntervalMs` and the packets are spread evenly.
   */
  #scheduleReannouncements(): void {
    const count = this.#advertised.length;
    if (count === 0) return;
    this.#timer = setInterval(() => this.#reannounceNext(), Math.max(1, Math.floor(this.#opts.reannounceIntervalMs / count)));
    this.#timer.unref();
  }

  #reannounceNext(): void {
    const a = this.#advertised[this.#nextIndex % this.#advertised.length];
    this.#nextIndex += 1;
    if (!a || (a.service.serviceState as string) !== 'announced') return;
    const s = a.service;
    // The same path ciao's updateTxt() takes, with the whole record set in the answer
    // section like an RFC 6762 8.3 announcement: PTR first, then SRV, TXT and A.
    const emitter: EventEmitter = s;
    try {
      emitter.emit(RECORDS_UPDATE, { answers: [s.ptrRecord(), s.srvRecord(), s.txtRecord(), ...s.allAddressRecords()] }, (err?: Error | null) => {
        if (err) this.#log.debug({ player: a.player.id, err: err.message }, 'mDNS re-announcement failed');
      });
    } catch (err) {
      this.#log.debug({ player: a.player.id, err: errorMessage(err) }, 'mDNS re-announcement skipped');
    }
  }
}
