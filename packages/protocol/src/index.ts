// @statecraft/protocol: the messages a Statecraft client and server exchange, their schemas, the
// frame codecs and the in-process port pair. PROTOCOL.md at the repository root describes the wire.
export { PROTOCOL_VERSION, ENCODINGS, CLOSE_CODES, CAPABILITIES, type Encoding } from './version.ts'
export { isJson, isValue, isJsonObject, MAX_DEPTH } from './wire-value.ts'
export {
  idSchema, keySchema, versionsSchema, jsonSchema, valueSchema, jsonObjectSchema, querySchema, opSchema, txnSchema,
  entriesSchema, txnRecordSchema, wireErrorSchema, errorCodeSchema, storeInfoSchema,
  type WireOp, type WireTxn, type WireEntries, type WireTxnRecord, type WireQuery,
} from './schemas.ts'
export {
  helloSchema, fetchSchema, getOpsSchema, mutateSchema, subscribeSchema, unsubscribeSchema, pingSchema, pongSchema,
  presenceJoinSchema, presenceSetSchema, presenceLeaveSchema, roomSchema, MAX_ROOM_LENGTH, presenceStateSize,
  clientMessageSchema, CLIENT_MESSAGE_TYPES,
  type HelloMessage, type FetchMessage, type GetOpsMessage, type MutateMessage, type SubscribeMessage,
  type UnsubscribeMessage, type PingMessage, type PongMessage, type ClientMessage, type ClientMessageType, type RequestMessage,
  type PresenceJoinMessage, type PresenceSetMessage, type PresenceLeaveMessage,
} from './client-messages.ts'
export {
  limitsSchema, welcomeSchema, fetchedSchema, opsSchema, mutatedSchema, updateSchema, unsubscribedSchema, errorSchema,
  peerSchema, presencePeerSchema, presenceSnapshotSchema, presenceUpdateSchema,
  serverMessageSchema,
  type PresencePeer, type PresenceSnapshotMessage, type PresenceUpdateMessage,
  type Limits, type WelcomeMessage, type FetchedMessage, type OpsMessage, type MutatedMessage, type UpdateMessage,
  type UnsubscribedMessage, type ErrorMessage, type ServerMessage, type ServerMessageType,
} from './server-messages.ts'
export { jsonCodec, msgpackCodec, codecs, codecOf, encode, decode, frameSize, type Codec, type Frame } from './codec.ts'
export { decodeClientFrame, decodeServerFrame, type Parsed } from './parse.ts'
export {
  txnToWire, txnFromWire, entriesToWire, entriesFromWire, recordToWire, recordFromWire,
  fetchedToWire, fetchedFromWire, updateToWire, updateFromWire,
} from './wire.ts'
export { encodeUpdateBody, updateFrame, type UpdateBody } from './update-frame.ts'
export { pair, type Port, type LocalPort } from './port.ts'
export { socketPort, type SocketPortOptions, type WebSocketLike } from './socket-port.ts'
