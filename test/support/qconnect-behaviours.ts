/**
 * What the production Qobuz Connect service has never been seen doing (docs/protocol.md
 * "Unknowns"), as switches of the simulated service: one per unknown, each value a plausible
 * behaviour. The defaults are what the simulation did before the switches existed. Tests run a
 * scenario under every value (`BEHAVIOUR_VALUES`). Service-wide; set at construction
 * (`new QconnectService({ behaviours: { … } })`) or changed at run time (`service.behaviours.x = …`),
 * like `dropLinksAtTokenExpiry`.
 */
export interface ServiceBehaviours {
  /** The 90 answering a 76 names the 76's action uuid (the schema has the field), or leaves it out. */
  echoQueueStateAction: boolean;
  /** A 61 with no session uuid on a token minted for the account: joins the account's session, or is refused (type 1). */
  joinWithoutSession: 'accepted' | 'refused';
  /** Where the 41 of a pick with the state (pickRenderer withSetState) goes: after the 43, in its batch after it, or before it. */
  setStateOnPick: 'after' | 'same-batch' | 'before';
  /** 105: which suggestions become queue items when one plays: it and those before it, only it, or none (no 105 at all). */
  autoplayPromotion: 'with-earlier' | 'only-current' | 'never';
  /** 24 PREVIOUS on the first item (loop off): restart it (a 41 naming it), ignore it, or stop (41 with item -1). */
  previousOnFirst: 'restart' | 'ignore' | 'stop';
  /** A 62 naming an autoplay suggestion: played, or refused with "Current track not found in queue nor autoplay". */
  playAutoplayItem: 'accepted' | 'refused';
  /** After a queue clear (89): nothing more, or a 41 STOPPED with item -1 to the active renderer. */
  afterClear: 'nothing' | 'stop';
  /**
   * Queue version numbering: `major` on a load or clear and `minor` otherwise; one counter in
   * `minor`; one counter in `major`; or steps of two (every delta looks like a gap).
   */
  versionRule: 'major-on-load' | 'minor-only' | 'major-only' | 'gaps';
  /** A seek to 0 (its only field a zero): a 41 with no field at all, or a 41 carrying the playing state. */
  seekToZeroAs: 'empty' | 'with-state';
  /** Controller verbs (by message type: 62, 65-70, 76) answered with a type-1 error instead of being applied. */
  refuseVerbs: number[];
}

export const DEFAULT_BEHAVIOURS: Readonly<ServiceBehaviours> = {
  echoQueueStateAction: true,
  joinWithoutSession: 'accepted',
  setStateOnPick: 'after',
  autoplayPromotion: 'with-earlier',
  previousOnFirst: 'restart',
  playAutoplayItem: 'accepted',
  afterClear: 'nothing',
  versionRule: 'major-on-load',
  seekToZeroAs: 'empty',
  refuseVerbs: [],
};

/** Every value of each switch, for `test.each` (refuseVerbs: the verbs the bridge sends). */
export const BEHAVIOUR_VALUES = {
  echoQueueStateAction: [true, false],
  joinWithoutSession: ['accepted', 'refused'],
  setStateOnPick: ['after', 'same-batch', 'before'],
  autoplayPromotion: ['with-earlier', 'only-current', 'never'],
  previousOnFirst: ['restart', 'ignore', 'stop'],
  playAutoplayItem: ['accepted', 'refused'],
  afterClear: ['nothing', 'stop'],
  versionRule: ['major-on-load', 'minor-only', 'major-only', 'gaps'],
  seekToZeroAs: ['empty', 'with-state'],
} as const satisfies {
  [K in Exclude<keyof ServiceBehaviours, 'refuseVerbs'>]: ReadonlyArray<ServiceBehaviours[K]>;
};

/** The type-1 error a refused verb gets (the production text and code are unknown). */
export const VERB_REFUSED = { code: '400', message: 'Action not allowed' } as const;
