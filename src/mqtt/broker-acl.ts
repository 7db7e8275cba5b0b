/**
 * Who may publish where on the embedded broker (README "Security", issue #26). The bridge itself
 * publishes everything it owns: its base topic and Home Assistant's discovery prefix. Any other
 * client (authenticated, or anonymous when no credentials are configured) may publish commands,
 * `B/<player>/set`, Home Assistant's birth and will (`<prefix>/status`), and topics that are not the
 * bridge's; it may read everything. So no client can forge a player's state or a discovery config.
 */
export interface BrokerAclTopics {
  /** `mqtt.base_topic`. */
  readonly base: string;
  /** `mqtt.discovery_prefix`. */
  readonly discoveryPrefix: string;
}

const under = (topic: string, prefix: string): boolean => topic === prefix || topic.startsWith(`${prefix}/`);

/** Whether a client other than the bridge may publish to `topic`. */
export function clientMayPublish(topic: string, t: BrokerAclTopics): boolean {
  // $SYS and any other reserved topic: the broker's own (aedes' default refusal, kept).
  if (topic.startsWith('$')) return false;
  if (under(topic, t.base)) {
    const rest = topic.slice(t.base.length + 1).split('/');
    return rest.length === 2 && rest[0] !== '' && rest[1] === 'set';
  }
  if (under(topic, t.discoveryPrefix)) return topic === `${t.discoveryPrefix}/status`;
  return true;
}
