// Adapts a `ws` WebSocket (server side) to a Port: text frames arrive as strings, binary frames as
// plain Uint8Arrays, and bufferedAmount is the socket's.
import type { WebSocket, RawData } from 'ws'
import type { Frame, Port } from '@statecraft/protocol'

/** How long a closing socket may take to answer the close frame before it is cut. */
const CLOSE_GRACE_MS = 1000

function bytesOf(data: RawData): Uint8Array {
  const buf = Array.isArray(data) ? Buffer.concat(data) : data instanceof ArrayBuffer ? new Uint8Array(data) : data
  return new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength)
}

export function wsPort(ws: WebSocket): Port {
  let closed = false
  const port: Port = {
    onframe: undefined,
    onclose: undefined,
    send(frame: Frame) {
      if (ws.readyState === ws.OPEN) ws.send(frame)
    },
    close(code = 1000, reason = '') {
      if (closed) return
      closed = true
      try {
        ws.close(code, reason)
      } catch {
        ws.terminate()
      }
      // A dead or stuck peer never answers the close frame: cut it.
      setTimeout(() => ws.terminate(), CLOSE_GRACE_MS).unref()
    },
    get bufferedAmount() {
      return ws.bufferedAmount
    },
  }
  ws.on('message', (data, isBinary) => {
    if (closed) return
    port.onframe?.(isBinary ? bytesOf(data) : Buffer.isBuffer(data) ? data.toString('utf8') : new TextDecoder().decode(bytesOf(data)))
  })
  ws.on('close', (code, reason) => {
    closed = true
    port.onclose?.(code, reason.toString())
  })
  // 'close' follows every 'error'; without a listener an error would be thrown.
  ws.on('error', () => {})
  return port
}
