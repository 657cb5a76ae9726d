// @statecraft/client: the remote store, a Store that speaks to a Statecraft server over WebSocket
// (or any Port), reconnecting and resuming on its own.
export { connect, type ConnectOptions } from './connect.ts'
export { Remote, type RemoteStore, type RemoteStoreOptions, type Dial } from './remote-store.ts'
export { dialWebSocket, defaultWebSocket, type WebSocketLike, type WebSocketConstructor } from './websocket-port.ts'
export { backoffDelay, type Backoff } from './backoff.ts'
