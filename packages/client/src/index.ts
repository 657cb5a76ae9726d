// @statecraft/client: the remote store, a Store that speaks to a Statecraft server over WebSocket
// (or any Port), reconnecting and resuming on its own.
export { connect, type ConnectOptions } from './connect.ts'
export { Remote, type RemoteStore, type RemoteStoreOptions, type Dial } from './remote-store.ts'
export type { Presence, PresencePeers } from './presence.ts'
export { dialWebSocket, defaultWebSocket, type WebSocketLike, type WebSocketConstructor } from './websocket-port.ts'
export { backoffDelay, type Backoff } from './backoff.ts'
// The app-facing client SDK (offline-first): createClient, doc/text/query handles, caches.
export { createClient, StatecraftClient, type ClientOptions, type ClientStatus } from './client.ts'
export { DocHandle, TextHandle, QueryHandle, type TextCursor } from './handles.ts'
export type { DocSnapshot } from './doc-state.ts'
export { storeCache, memoryCache, type ClientCache, type CacheContents, type CacheWrite, type CachedDoc, type CachedEntry, type StoreCacheOptions } from './client-cache.ts'
export { idbCache, type IdbCacheOptions } from './idb-cache.ts'
export type { Transaction, TransactionOptions } from './transaction.ts'
export { jsonDiffOp } from './json-diff.ts'
export { textDiffOp } from './text-diff.ts'
