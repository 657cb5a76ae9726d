// Type declarations for the parts of ShareDB and @teamwork/websocket-json-stream the bench uses:
// neither package ships types. Written from their sources (sharedb 7.0.0 lib/backend.js,
// lib/client/connection.js, lib/client/doc.js; websocket-json-stream 2.0.0 index.js).
declare module 'sharedb' {
  import type { Duplex } from 'node:stream'
  export interface OTType {
    name: string
    uri: string
  }
  export interface Snapshot {
    id: string
    v: number
    type: string | null
    data: unknown
  }
  export interface DB {
    getSnapshot(collection: string, id: string, fields: null, options: null, cb: (err: unknown, snapshot: Snapshot | undefined) => void): void
  }
  export default class Backend {
    constructor(options?: { presence?: boolean; doNotForwardSendPresenceErrorsToClient?: boolean })
    static types: { register(type: OTType): void }
    db: DB
    listen(stream: Duplex, req?: unknown): unknown
    close(cb?: (err?: unknown) => void): void
  }
}

declare module 'sharedb/lib/client/index.js' {
  export interface Doc {
    data: unknown
    version: number | null
    type: { name: string } | null
    create(data: unknown, type: string, cb: (err?: unknown) => void): void
    subscribe(cb: (err?: unknown) => void): void
    fetch(cb: (err?: unknown) => void): void
    submitOp(op: unknown, options?: unknown, cb?: (err?: unknown) => void): void
    hasPending(): boolean
    whenNothingPending(cb: () => void): void
    on(event: 'op', fn: (op: unknown, source: unknown) => void): void
    on(event: 'error', fn: (err: unknown) => void): void
    destroy(cb?: (err?: unknown) => void): void
  }
  export interface SocketLike {
    readyState: number
    send(data: string): void
    close(): void
  }
  export class Connection {
    constructor(socket: SocketLike)
    get(collection: string, id: string): Doc
    close(): void
    state: string
    on(event: 'state', fn: (state: string, reason: string) => void): void
  }
  export const types: { register(type: { name: string; uri: string }): void }
}

declare module '@teamwork/websocket-json-stream' {
  import { Duplex } from 'node:stream'
  import type { WebSocket } from 'ws'
  export default class WebSocketJSONStream extends Duplex {
    constructor(ws: WebSocket)
  }
}
