/**
 * QConnect message types (docs/protocol.md §3-§4): number -> the Message field holding its
 * body (field number = type, except ERROR in field 2 and PLAYBACK_ERROR in field 3).
 * The tables are generated from proto/qconnect.proto (enum MessageType, message Message) by
 * `npm run proto` into generated/message-names.ts; this file only derives the types.
 */
import type { qconnect } from './generated/qconnect.js';
import type { MESSAGE_BODY_TYPES, MESSAGE_NAMES, MESSAGE_TYPES } from './generated/message-names.js';

export { MESSAGE_NAMES, MESSAGE_TYPES } from './generated/message-names.js';

export type MessageType = keyof typeof MESSAGE_NAMES;
export type MessageName = (typeof MESSAGE_NAMES)[MessageType];

/** The generated class of the body of message type K (e.g. 41 -> qconnect.SrvrRndrSetState). */
type BodyClass<K extends MessageType> = (typeof qconnect)[(typeof MESSAGE_BODY_TYPES)[K]];

/** Decoded body of each message type. */
export type MessageBodies = { [K in MessageType]: InstanceType<BodyClass<K>> };

/** What may be given to encode each message type (the body's `$Properties`). */
export type MessageInputs = { [K in MessageType]: NonNullable<ConstructorParameters<BodyClass<K>>[0]> };

/** Decoded body of each message, keyed by message name (e.g. SrvrRndrSetState), for name-keyed handler tables. */
export type MessageBodiesByName = { [N in MessageName]: MessageBodies[(typeof MESSAGE_TYPES)[N]] };
