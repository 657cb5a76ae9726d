// The in-process pair: ordered asynchronous delivery, buffered bytes while the reader is paused,
// and close reaching both ends once.
import { expect, test } from 'vitest'
import { pair, type Frame } from '@statecraft/protocol'

const tick = (): Promise<void> => new Promise(r => setTimeout(r, 0))

test('frames arrive in order, later, and copied', async () => {
  const [a, b] = pair()
  const got: Frame[] = []
  b.onframe = f => got.push(f)
  const bytes = new Uint8Array([1, 2])
  a.send('one')
  a.send(bytes)
  bytes[0] = 9
  expect(got).toEqual([])
  await tick()
  expect(got).toEqual(['one', new Uint8Array([1, 2])])
})

test('a paused reader makes the writer buffer', async () => {
  const [a, b] = pair()
  let n = 0
  b.onframe = () => n++
  b.pause()
  for (let i = 0; i < 10; i++) a.send(new Uint8Array(100))
  await tick()
  expect(n).toBe(0)
  expect(a.bufferedAmount).toBe(1000)
  b.resume()
  await tick()
  expect(n).toBe(10)
  expect(a.bufferedAmount).toBe(0)
})

test('close delivers what was sent before, then tells both ends once', async () => {
  const [a, b] = pair()
  const events: string[] = []
  a.onclose = code => events.push(`a closed ${code}`)
  b.onclose = code => events.push(`b closed ${code}`)
  a.onframe = f => events.push(`a got ${String(f)}`)
  b.onframe = f => events.push(`b got ${String(f)}`)
  a.send('x')
  b.send('y')
  a.close(4003)
  a.send('z')
  b.send('w')
  await tick()
  expect(events.sort()).toEqual(['a closed 4003', 'b closed 4003', 'b got x'])
  expect(a.closed && b.closed).toBe(true)
})

test('terminate loses frames in flight both ways', async () => {
  const [a, b] = pair()
  const events: string[] = []
  a.onclose = code => events.push(`a closed ${code}`)
  b.onclose = code => events.push(`b closed ${code}`)
  b.onframe = f => events.push(`b got ${String(f)}`)
  a.send('x')
  b.terminate()
  await tick()
  expect(events.sort()).toEqual(['a closed 1006', 'b closed 1006'])
})
