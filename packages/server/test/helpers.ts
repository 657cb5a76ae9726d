// Test helpers: a server on a store with a client connected to it, as one Store whose close()
// closes both, over a WebSocket or the in-process transport.
import type { Store } from '@statecraft/core'
import { connect, type ConnectOptions, type RemoteStore } from '@statecraft/client'
import { createServer, type ServerOptions, type StatecraftServer } from '@statecraft/server'

export type Transport = 'ws' | 'local'

export const quietLog = (): void => {}

/** A server on `store` and a remote store connected to it; closing the remote store closes the server (and `store`). */
export async function remoteOver(
  transport: Transport,
  store: Store,
  opts: { server?: Partial<ServerOptions>; client?: ConnectOptions } = {},
): Promise<RemoteStore & { server: StatecraftServer }> {
  const server = await createServer({ log: quietLog, ...opts.server, store })
  let remote: RemoteStore
  try {
    remote = await connect(transport === 'ws' ? server.url : () => server.connectLocal(), { log: quietLog, ...opts.client })
  } catch (e) {
    await server.close()
    throw e
  }
  const close = remote.close.bind(remote)
  return Object.assign(remote, {
    server,
    close: async () => {
      await close()
      await server.close()
      await store.close()
    },
  })
}
