// The protocol version a hello names, and the frame encodings a connection may use.

/** Bumped on any change an older peer cannot ignore. A server answers a hello of another version with `unsupported`. */
export const PROTOCOL_VERSION = 1

/** `msgpack`: binary frames (the default, faster); `json`: text frames, for debugging and simple clients. */
export type Encoding = 'msgpack' | 'json'
export const ENCODINGS: readonly Encoding[] = ['msgpack', 'json']

/**
 * Optional behaviours a client asks for in `hello.capabilities` and a server that has them lists in
 * `welcome.capabilities` (PROTOCOL.md §10). `mutated-in-update`: the reply to a `mutate` may come
 * inside an `update` of the same connection that carries the write (its `mutated` field) instead of
 * as a frame of its own.
 */
export const CAPABILITIES = { mutatedInUpdate: 'mutated-in-update' } as const

/** WebSocket close codes the protocol uses (4000–4999 is the application range). */
export const CLOSE_CODES = {
  /** The server is shutting down; reconnect later. */
  goingAway: 1001,
  /** A frame was larger than the hard limit; the transport could not buffer it. */
  tooBig: 1009,
  /** The hello named a protocol version the server does not speak. Do not reconnect. */
  unsupportedVersion: 4000,
  /** `authenticate` refused the token. Reconnect only with a new token. */
  unauthorized: 4001,
  /** No hello arrived in time. */
  helloTimeout: 4002,
  /** No frame arrived for two heartbeat intervals. */
  deadPeer: 4003,
  /** The connection read nothing while its send buffer passed the hard limit. */
  slowReader: 4004,
} as const
