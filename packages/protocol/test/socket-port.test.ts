// socketPort over a fake WHATWG socket: frames in and out, binary as plain Uint8Array views, and
// the two close behaviours (the client's: reported at once; the server's: on the socket's close,
// with a cut after the grace period).
import { expect, test, vi } from 'vitest'
import { socketPort, type WebSocketLike } from '@statecraft/protocol'

function fake(withTerminate: boolean): WebSocketLike & { sent: unknown[]; closes: unknown[][]; terminated: number } {
  const ws = {
    binaryType: 'blob', readyState: 1, bufferedAmount: 7, sent: [] as unknown[], closes: [] as unknown[][], terminated: 0,
    onopen: null, onmessage: null, onclose: null, onerror: null,
    send(d: unknown) {
      ws.sent.push(d)
    },
    close(...args: unknown[]) {
      if (args[0] === 1234) throw new Error('bad code')
      ws.closes.push(args)
      ws.readyState = 2
    },
    ...(withTerminate ? { terminate: () => void ws.terminated++ } : {}),
  } as WebSocketLike & { sent: unknown[]; closes: unknown[][]; terminated: number; readyState: number }
  return ws
}

test('frames both ways; a Buffer or ArrayBuffer arrives as a plain Uint8Array', () => {
  const ws = fake(true)
  const port = socketPort(ws)
  expect(ws.binaryType).toBe('nodebuffer')
  const browser = fake(false)
  socketPort(browser)
  expect(browser.binaryType).toBe('arraybuffer')
  const got: unknown[] = []
  port.onframe = f => got.push(f)
  ws.onmessage?.({ data: 'text' })
  ws.onmessage?.({ data: Buffer.from([1, 2, 3]) })
  ws.onmessage?.({ data: new Uint8Array([4]).buffer })
  ws.onmessage?.({ data: { blob: true } })
  expect(got).toEqual(['text', new Uint8Array([1, 2, 3]), new Uint8Array([4])])
  expect((got[1] as Uint8Array).constructor).toBe(Uint8Array)
  port.send('x')
  expect(ws.sent).toEqual(['x'])
  expect(port.bufferedAmount).toBe(7)
})

test('server style: close reported when the socket closes; a silent peer is cut after the grace period', () => {
  vi.useFakeTimers()
  try {
    const ws = fake(true)
    const port = socketPort(ws, { closeGraceMs: 1000 })
    const closes: unknown[] = []
    port.onclose = (c, r) => closes.push([c, r])
    port.close(4004, 'slow reader')
    expect(ws.closes).toEqual([[4004, 'slow reader']])
    expect(closes).toEqual([])
    port.send('late')
    expect(ws.sent).toEqual([])
    vi.advanceTimersByTime(1000)
    expect(ws.terminated).toBe(1)
    ws.onclose?.({ code: 1006, reason: '' })
    expect(closes).toEqual([[1006, '']])
  } finally {
    vi.useRealTimers()
  }
})

test('client style: close reported at once, once; a refused close code closes plainly', () => {
  const ws = fake(false)
  const port = socketPort(ws, { reportCloseAtOnce: true })
  const closes: unknown[] = []
  port.onclose = (c, r) => closes.push([c, r])
  port.close(1234, 'x')
  expect(ws.closes).toEqual([[]])
  expect(closes).toEqual([[1234, 'x']])
  ws.onclose?.({ code: 1005, reason: '' })
  expect(closes).toHaveLength(1)
  // Frames after close are not delivered.
  const got: unknown[] = []
  port.onframe = f => got.push(f)
  ws.onmessage?.({ data: 'y' })
  expect(got).toEqual([])
})
