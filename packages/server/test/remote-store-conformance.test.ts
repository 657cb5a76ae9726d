// The remote store passes the store conformance suite against a server on the memory store: over a
// real WebSocket on 127.0.0.1 (MessagePack frames, and JSON frames) and over the in-process transport.
import { memoryStore } from '@statecraft/core'
import { runStoreTests } from '@statecraft/test-kit'
import { remoteOver, type Transport } from './helpers.ts'

const variants: [string, Transport, 'msgpack' | 'json'][] = [
  ['ws, msgpack', 'ws', 'msgpack'],
  ['ws, json', 'ws', 'json'],
  ['in-process', 'local', 'msgpack'],
]

for (const [name, transport, encoding] of variants) {
  runStoreTests(`remote store (${name}) on the memory store`, () => remoteOver(transport, memoryStore(), { client: { encoding } }), {
    makeStoreWithHistory: historyLimit => remoteOver(transport, memoryStore({ historyLimit }), { client: { encoding } }),
  })
}
