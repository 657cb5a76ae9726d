// An in-process server with SDK clients dialing it (server.connectLocal), closed after each test.
import { afterEach } from 'vitest'
import { memoryStore } from '@statecraft/core'
import { createServer, type ServerOptions, type StatecraftServer } from '@statecraft/server'
import { createClient, type ClientOptions, type StatecraftClient } from '@statecraft/client'

export interface Local {
  server: StatecraftServer
  /** A client of `server` (quiet log); options override the defaults. */
  client: (o?: Partial<ClientOptions>) => StatecraftClient
}

/**
 * Call at a test file's top level: registers the afterEach that closes what the returned `setup`
 * opened (clients first, then the server). `setup(opts)` starts a server (default store: memoryStore()).
 */
export function localServers(): (opts?: Partial<ServerOptions<unknown>>) => Promise<Local> {
  const open: { close(): Promise<void> }[] = []
  afterEach(async () => {
    for (const x of open.splice(0).reverse()) await x.close()
  })
  return async (opts = {}) => {
    const server = await createServer({ store: memoryStore(), log: () => {}, ...opts })
    open.push(server)
    return {
      server,
      client: (o = {}) => {
        const c = createClient({ dial: () => server.connectLocal(), log: () => {}, ...o })
        open.push(c)
        return c
      },
    }
  }
}
