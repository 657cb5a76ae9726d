// Starts a server on a LevelDB store (the embedded default) or a memory store.
import { memoryStore, type Store } from '@statecraft/core'
import { openLevelStore } from '@statecraft/level'
import { createServer } from '@statecraft/server'
import type { ServeArgs } from './cli.ts'
import { loadRules, tokenSecret } from './rules-module.ts'

export interface Serving {
  /** The WebSocket URL clients connect to. */
  url: string
  /** The page URL when static files are served. */
  httpUrl?: string
  port: number
  store: Store
  /** Stops the server, then closes the store (waiting for durable writes). */
  close(): Promise<void>
}

export async function serve(args: ServeArgs): Promise<Serving> {
  // Loaded first: a broken module should fail before a store is opened.
  const rules = args.rules === undefined ? undefined : await loadRules(args.rules)
  const store = args.memory ? memoryStore() : await openLevelStore(args.data)
  try {
    // The secret is written only once the store has made the directory its own.
    const guard = rules === undefined ? {} : { rules: rules.rules, authenticate: rules.authenticate(tokenSecret(args.memory ? undefined : args.data)) }
    const server = await createServer({
      ...guard,
      store,
      host: args.host,
      port: args.port,
      path: args.path,
      ...(args.static === undefined ? {} : { static: args.static }),
    })
    const httpUrl = args.static === undefined ? undefined : `http://${args.host}:${server.port}/`
    return {
      url: server.url,
      port: server.port,
      store,
      ...(httpUrl === undefined ? {} : { httpUrl }),
      async close() {
        await server.close()
        await store.close()
      },
    }
  } catch (e) {
    await store.close()
    throw e
  }
}
