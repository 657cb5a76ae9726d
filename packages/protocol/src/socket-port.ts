// A WebSocket as a Port, for both ends: the browser's WebSocket, and `ws`'s (client or server side),
// through the WHATWG API they share. Text frames arrive as strings, binary frames as plain
// Uint8Arrays (a view of what the socket gave, not a copy).
import type { Frame } from './codec.ts'
import type { Port } from './port.ts'

/** The part of the WHATWG WebSocket API a port uses (the browser's and `ws`'s both have it). */
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
  /** `ws` only: drops the connection without a close handshake. */
  terminate?(): void
}

export interface SocketPortOptions {
  /**
   * How binary frames arrive: `ws` (Node) takes `nodebuffer` (a Buffer, viewed without a copy);
   * browsers know only `arraybuffer` and `blob`. Default: `nodebuffer` for a socket with
   * `terminate` (that is `ws`), else `arraybuffer`.
   */
  binaryType?: 'nodebuffer' | 'arraybuffer'
  /**
   * `close()` reports `onclose` at once, not when the peer answers the close frame (a client that
   * gives up on a dead server must not wait for it). Default false: reported when the socket closes.
   */
  reportCloseAtOnce?: boolean
  /** After `close()`, how long the peer may take to answer the close frame before the socket is cut (needs `terminate`). */
  closeGraceMs?: number
}

/** The frame a message event carries; undefined for data of another kind (a Blob). */
function frameOf(data: unknown): Frame | undefined {
  if (typeof data === 'string') return data
  if (data instanceof ArrayBuffer) return new Uint8Array(data)
  if (ArrayBuffer.isView(data)) return new Uint8Array(data.buffer, data.byteOffset, data.byteLength)
  return undefined
}

/**
 * `ws` as a Port. A class, so that `bufferedAmount` is a getter on the prototype: V8 makes an
 * object with a getter of its own a ~290-byte dictionary with slow property reads, and the Agent
 * and the remote store read this one on every frame.
 */
class SocketPort implements Port {
  onframe: ((frame: Frame) => void) | undefined = undefined
  onclose: ((code: number, reason: string) => void) | undefined = undefined
  private closed = false

  constructor(
    private readonly ws: WebSocketLike,
    private readonly opts: SocketPortOptions,
  ) {
    ws.onmessage = ev => {
      if (this.closed) return
      const f = frameOf(ev.data)
      if (f !== undefined) this.onframe?.(f)
    }
    ws.onclose = ev => {
      const reported = this.closed && opts.reportCloseAtOnce === true
      this.closed = true
      if (!reported) this.onclose?.(ev.code, ev.reason)
    }
    // 'close' follows every 'error'; without a listener `ws` would throw it.
    ws.onerror = () => {}
  }

  send(frame: Frame): void {
    if (!this.closed && this.ws.readyState === 1) this.ws.send(frame)
  }

  close(code = 1000, reason = ''): void {
    if (this.closed) return
    this.closed = true
    const ws = this.ws
    try {
      ws.close(code, reason)
    } catch {
      // A code or reason the socket refuses (a browser takes only 1000 and 3000–4999): close plainly.
      try {
        ws.close()
      } catch {
        ws.terminate?.()
      }
    }
    if (this.opts.closeGraceMs !== undefined && ws.terminate !== undefined) {
      // A dead or stuck peer never answers the close frame: cut it.
      const t = setTimeout(() => ws.terminate?.(), this.opts.closeGraceMs) as { unref?: () => void }
      t.unref?.()
    }
    if (this.opts.reportCloseAtOnce === true) this.onclose?.(code, reason)
  }

  get bufferedAmount(): number {
    return this.ws.bufferedAmount
  }
}

/** `ws`, open, as a Port. Takes over its onmessage, onclose and onerror. */
export function socketPort(ws: WebSocketLike, opts: SocketPortOptions = {}): Port {
  ws.binaryType = opts.binaryType ?? (typeof ws.terminate === 'function' ? 'nodebuffer' : 'arraybuffer')
  return new SocketPort(ws, opts)
}
