// Opens a WebSocket (the browser's, isomorphic-ws's `ws` in Node, or one passed in) and adapts it
// to a Port once it is open.
import IsoWebSocket from 'isomorphic-ws'
import { StatecraftError } from '@statecraft/core'
import type { Frame, Port } from '@statecraft/protocol'

/** The part of the WHATWG WebSocket API the client uses (the browser's and `ws` both have it). */
export interface WebSocketLike {
  binaryType: string
  readonly readyState: number
  readonly bufferedAmount: number
  onopen: ((ev: unknown) => void) | null
  onmessage: ((ev: { data: unknown }) => void) | null
  onclose: ((ev: { code: number; reason: string }) => void) | null
  onerror: ((ev: unknown) => void) | null
  send(data: string | Uint8Array): void
  close(code?: number, reason?: string): void
}

export type WebSocketConstructor = new (url: string) => WebSocketLike

const g = globalThis as { WebSocket?: WebSocketConstructor }

/** The WebSocket class to use: the one given, the platform's, or isomorphic-ws's. */
export const defaultWebSocket = (): WebSocketConstructor => g.WebSocket ?? (IsoWebSocket as unknown as WebSocketConstructor)

function frameOf(data: unknown): Frame | undefined {
  if (typeof data === 'string') return data
  if (data instanceof ArrayBuffer) return new Uint8Array(data)
  if (ArrayBuffer.isView(data)) return new Uint8Array(data.buffer, data.byteOffset, data.byteLength)
  return undefined
}

/** Resolves with a Port once the socket is open; rejects with `closed` when it cannot connect. */
export function dialWebSocket(url: string, Ctor: WebSocketConstructor = defaultWebSocket()): Promise<Port> {
  return new Promise((resolve, reject) => {
    let ws: WebSocketLike
    try {
      ws = new Ctor(url)
    } catch (e) {
      reject(new StatecraftError('invalid', `cannot open a WebSocket to ${url}: ${e instanceof Error ? e.message : String(e)}`))
      return
    }
    ws.binaryType = 'arraybuffer'
    let open = false
    let closed = false
    const port: Port = {
      onframe: undefined,
      onclose: undefined,
      send(frame) {
        if (!closed && ws.readyState === 1) ws.send(frame)
      },
      close(code = 1000, reason = '') {
        if (closed) return
        closed = true
        try {
          ws.close(code, reason)
        } catch {
          ws.close()
        }
        // Report it now: a dead peer may never answer the close frame.
        port.onclose?.(code, reason)
      },
      get bufferedAmount() {
        return ws.bufferedAmount
      },
    }
    ws.onopen = () => {
      open = true
      resolve(port)
    }
    ws.onmessage = ev => {
      if (closed) return
      const f = frameOf(ev.data)
      if (f !== undefined) port.onframe?.(f)
    }
    ws.onclose = ev => {
      if (!open) {
        reject(new StatecraftError('closed', `could not connect to ${url} (${ev.code})`))
        return
      }
      if (closed) return
      closed = true
      port.onclose?.(ev.code, ev.reason)
    }
    // 'close' follows.
    ws.onerror = () => {}
  })
}
