// A raw protocol client for tests: sends any frame, collects what the server answers.
import { dialWebSocket } from '@statecraft/client'
import { decodeServerFrame, encode, type Encoding, type Frame, type Port, type ServerMessage, type WelcomeMessage } from '@statecraft/protocol'
import type { StatecraftServer } from '@statecraft/server'

export class RawClient {
  readonly received: ServerMessage[] = []
  closedWith: number | undefined
  private waiters: (() => void)[] = []

  constructor(
    readonly port: Port,
    readonly encoding: Encoding = 'msgpack',
  ) {
    port.onframe = f => {
      const p = decodeServerFrame(f)
      if (!p.ok) throw new Error(`the server sent a bad frame: ${p.error.message}`)
      this.received.push(p.msg)
      this.wake()
    }
    port.onclose = code => {
      this.closedWith = code
      this.wake()
    }
  }

  static async open(server: StatecraftServer, transport: 'ws' | 'local', encoding: Encoding = 'msgpack'): Promise<RawClient> {
    return new RawClient(transport === 'ws' ? await dialWebSocket(server.url) : server.connectLocal(), encoding)
  }

  private wake(): void {
    const w = this.waiters
    this.waiters = []
    for (const f of w) f()
  }

  send(msg: object): void {
    this.port.send(encode(msg, this.encoding))
  }

  sendFrame(f: Frame): void {
    this.port.send(f)
  }

  /** Waits for (and removes) the first received message that matches. */
  async next(match: (m: ServerMessage) => boolean = () => true, timeoutMs = 2000): Promise<ServerMessage> {
    const deadline = Date.now() + timeoutMs
    for (;;) {
      const i = this.received.findIndex(match)
      if (i >= 0) return this.received.splice(i, 1)[0] as ServerMessage
      if (this.closedWith !== undefined) throw new Error(`the connection closed (${this.closedWith}) while waiting`)
      const left = deadline - Date.now()
      if (left <= 0) throw new Error(`no matching message in ${timeoutMs} ms; got ${JSON.stringify(this.received.map(m => m.type))}`)
      await new Promise<void>(resolve => {
        const t = setTimeout(resolve, left)
        this.waiters.push(() => {
          clearTimeout(t)
          resolve()
        })
      })
    }
  }

  async closed(timeoutMs = 2000): Promise<number> {
    const deadline = Date.now() + timeoutMs
    while (this.closedWith === undefined) {
      if (Date.now() > deadline) throw new Error('the connection did not close')
      await new Promise<void>(resolve => {
        const t = setTimeout(resolve, 20)
        this.waiters.push(() => {
          clearTimeout(t)
          resolve()
        })
      })
    }
    return this.closedWith
  }

  async hello(token?: string): Promise<WelcomeMessage> {
    this.send(token === undefined ? { type: 'hello', protocol: 1 } : { type: 'hello', protocol: 1, token })
    const m = await this.next(m => m.type === 'welcome' || m.type === 'error')
    if (m.type !== 'welcome') throw new Error(`hello refused: ${JSON.stringify(m)}`)
    return m
  }

  /** A fetch that must succeed: proof the connection still works. */
  async fetchOk(id: number): Promise<void> {
    this.send({ type: 'fetch', id, query: { kind: 'range' } })
    const m = await this.next(m => 'id' in m && m.id === id)
    if (m.type !== 'fetched') throw new Error(`fetch ${id} failed: ${JSON.stringify(m)}`)
  }
}
