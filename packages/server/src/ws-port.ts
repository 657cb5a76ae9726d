// Adapts a `ws` WebSocket (server side) to a Port: protocol's socketPort, with a close that cuts a
// peer which does not answer the close frame in time.
import type { WebSocket } from 'ws'
import { socketPort, type Port, type WebSocketLike } from '@statecraft/protocol'

/** How long a closing socket may take to answer the close frame before it is cut. */
const CLOSE_GRACE_MS = 1000

export const wsPort = (ws: WebSocket): Port => socketPort(ws as unknown as WebSocketLike, { closeGraceMs: CLOSE_GRACE_MS })
