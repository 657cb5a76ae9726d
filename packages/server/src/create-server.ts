// createServer: a Backend over a store, served over WebSocket on an HTTP server (its own, or one
// passed in), with the in-process transport alongside.
import { createServer as createHttpServer, type IncomingMessage, type Server as HttpServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import type { Duplex } from 'node:stream'
import { WebSocketServer } from 'ws'
import type { LocalPort } from '@statecraft/protocol'
import { Backend } from './backend.ts'
import { resolveLimits, type ServerOptions } from './options.ts'
import { staticFiles } from './static-files.ts'
import { wsPort } from './ws-port.ts'

export interface StatecraftServer {
  /** The port the HTTP server listens on. */
  readonly port: number
  /** The WebSocket URL clients connect to, path included. */
  readonly url: string
  /** The Backend: the store, its connections, `accept(port)` for other transports. */
  readonly backend: Backend
  /** A connection with no socket: the client end of an in-process pair (pass it to `connect`). */
  connectLocal(): LocalPort
  /** Closes every connection and the HTTP server the server made; not the store, not a server passed in. */
  close(): Promise<void>
}

const pathOf = (url: string | undefined): string => {
  try {
    return new URL(url ?? '/', 'http://x').pathname
  } catch {
    return ''
  }
}

function listen(http: HttpServer, port: number, host: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const fail = (e: Error): void => reject(e)
    http.once('error', fail)
    http.listen(port, host, () => {
      http.off('error', fail)
      resolve()
    })
  })
}

export async function createServer<C = unknown>(opts: ServerOptions<C>): Promise<StatecraftServer> {
  const path = opts.path ?? '/'
  const host = opts.host ?? '127.0.0.1'
  const limits = resolveLimits(opts.limits)
  const backend = new Backend<C>(opts)
  const own = opts.server === undefined
  const serveFile = opts.static === undefined ? undefined : staticFiles(opts.static)
  const http =
    opts.server ??
    createHttpServer((req, res) => {
      if (serveFile !== undefined) {
        serveFile(req, res).catch(() => res.destroy())
        return
      }
      const body = pathOf(req.url) === path ? 'Statecraft: connect with a WebSocket\n' : 'not found\n'
      res.writeHead(pathOf(req.url) === path ? 426 : 404, { 'content-type': 'text/plain; charset=utf-8' }).end(body)
    })
  const wss = new WebSocketServer({ noServer: true, maxPayload: limits.hardMaxFrameBytes, perMessageDeflate: false })
  const onUpgrade = (req: IncomingMessage, socket: Duplex, head: Buffer): void => {
    if (pathOf(req.url) !== path) {
      // Another listener may own that path on a server passed in; on ours, nobody does.
      if (own) socket.destroy()
      return
    }
    wss.handleUpgrade(req, socket, head, ws => {
      backend.accept(wsPort(ws))
    })
  }
  http.on('upgrade', onUpgrade)
  if (own) {
    try {
      await listen(http, opts.port ?? 0, host)
    } catch (e) {
      await backend.close()
      throw e
    }
  }
  const address = (): AddressInfo | undefined => {
    const a = http.address()
    return typeof a === 'object' && a !== null ? a : undefined
  }
  let closing: Promise<void> | undefined
  return {
    get port() {
      return address()?.port ?? opts.port ?? 0
    },
    get url() {
      const a = address()
      const h = a === undefined ? host : a.family === 'IPv6' ? `[${a.address}]` : a.address
      return `ws://${h}:${a?.port ?? opts.port ?? 0}${path}`
    },
    backend: backend as Backend,
    connectLocal: () => backend.connectLocal(),
    close() {
      closing ??= (async () => {
        http.off('upgrade', onUpgrade)
        await backend.close()
        await new Promise<void>(resolve => wss.close(() => resolve()))
        for (const ws of wss.clients) ws.terminate()
        if (own) {
          await new Promise<void>(resolve => {
            http.close(() => resolve())
            http.closeAllConnections()
          })
        }
      })()
      return closing
    },
  }
}
