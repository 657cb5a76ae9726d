// The bench's server, in its own process (so client and server each get a core): a Statecraft
// server on a memory store; it sends its URL to the parent over IPC and runs until killed.
import { memoryStore } from '@statecraft/core'
import { createServer } from '../src/index.ts'

const server = await createServer({ store: memoryStore(), limits: { maxInFlight: 256 }, log: () => {} })
process.send?.({ url: server.url })
process.on('disconnect', () => {
  void server.close().finally(() => process.exit(0))
})
