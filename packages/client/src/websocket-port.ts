// Opens a WebSocket (the browser's, isomorphic-ws's `ws` in Node, or one passed in) and adapts it
// to a Port once it is open.
import IsoWebSocket from 'isomorphic-ws'
import { StatecraftError } from '@statecraft/core'
import { socketPort, type Port, type WebSocketLike } from '@statecraft/protocol'

/** The part of the WHATWG WebSocket API the client uses (the browser's and `ws` both have it). */
export type { WebSocketLike }

export type WebSocketConstructor = new (url: string) => WebSocketLike

const g = globalThis as { WebSocket?: WebSocketConstructor }

/** The WebSocket class to use: the one given, the platform's, or isomorphic-ws's. */
export const defaultWebSocket = (): WebSocketConstructor => g.WebSocket ?? (IsoWebSocket as unknown as WebSocketConstructor)

/** Resolves with a Port once the socket is open; rejects with `closed` when it cannot connect. */
export function dialWebSocket(url: string, Ctor: WebSocketConstructor = defaultWebSocket()): Promise<Port> {
  return new Promise((resolve, reject) => {
    let ws: WebSocketLike
    try {
      ws = new Ctor(url)
    } catch (e) {
      reject(new StatecraftError('invalid', `cannot open a WebSocket to ${url}: ${e instanceof Error ? e.message : String(e)}`))
      return
    }
    let open = false
    ws.onopen = () => {
      open = true
      // Reported at once on close(): a client giving up on a dead server does not wait for it.
      resolve(socketPort(ws, { reportCloseAtOnce: true }))
    }
    // Until it opens; socketPort takes over onclose and onerror then.
    ws.onclose = ev => {
      if (!open) reject(new StatecraftError('closed', `could not connect to ${url} (${ev.code})`))
    }
    ws.onerror = () => {}
  })
}
