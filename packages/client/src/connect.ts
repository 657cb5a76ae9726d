// connect: the remote store for a server URL (over WebSocket) or for any transport (a Dial).
import { Remote, type Dial, type RemoteStore, type RemoteStoreOptions } from './remote-store.ts'
import { dialWebSocket, type WebSocketConstructor } from './websocket-port.ts'

export interface ConnectOptions extends RemoteStoreOptions {
  /** The WebSocket class (default: the platform's, or `ws` in Node through isomorphic-ws). */
  WebSocket?: WebSocketConstructor
}

/**
 * Connects to a Statecraft server and resolves with its store once the server has said welcome
 * (the store's `info` comes from it). `target` is a ws:// URL, or a Dial that opens a Port (for
 * example `() => server.connectLocal()` for the in-process transport).
 */
export async function connect(target: string | Dial, opts: ConnectOptions = {}): Promise<RemoteStore> {
  const dial: Dial = typeof target === 'string' ? () => dialWebSocket(target, opts.WebSocket) : target
  const store = new Remote(dial, opts)
  await store.start()
  return store
}
