// A scripted server for client tests: each dial makes an in-process pair; the test reads what the
// client sent and answers by hand.
import { decodeClientFrame, encode, pair, type ClientMessage, type LocalPort, type Port, type ServerMessage } from '@statecraft/protocol'

export const INFO = { uid: 's', sources: ['s'], capabilities: { queries: ['keys', 'range'], opTypes: ['set', 'del', 'json1', 'text'], mutable: true, history: true } } as const

export class FakeConn {
  readonly received: ClientMessage[] = []
  private waiters: (() => void)[] = []

  constructor(readonly port: LocalPort, welcome: Partial<{ maxInFlight: number; maxFrameBytes: number }> | false) {
    port.onframe = f => {
      const p = decodeClientFrame(f)
      if (!p.ok) throw new Error(`the client sent a bad frame: ${p.error.message}`)
      if (p.msg.type === 'hello' && welcome !== false) {
        this.send({
          type: 'welcome', protocol: 1, encoding: 'msgpack', connectionId: 'c', info: INFO,
          limits: { maxFrameBytes: welcome.maxFrameBytes ?? 1 << 20, maxSubscriptions: 100, maxInFlight: welcome.maxInFlight ?? 100 }, heartbeatMs: 0, capabilities: [],
        })
        return
      }
      this.received.push(p.msg)
      for (const w of this.waiters.splice(0)) w()
    }
  }

  send(m: ServerMessage | object): void {
    this.port.send(encode(m))
  }

  /** Waits for (and removes) the first message the client sent that matches. */
  async next<T extends ClientMessage['type']>(type: T, timeoutMs = 1000): Promise<Extract<ClientMessage, { type: T }>> {
    const deadline = Date.now() + timeoutMs
    for (;;) {
      const i = this.received.findIndex(m => m.type === type)
      if (i >= 0) return this.received.splice(i, 1)[0] as Extract<ClientMessage, { type: T }>
      if (Date.now() > deadline) throw new Error(`no ${type} from the client; got ${JSON.stringify(this.received.map(m => m.type))}`)
      await new Promise<void>(r => {
        const t = setTimeout(r, deadline - Date.now())
        this.waiters.push(() => {
          clearTimeout(t)
          r()
        })
      })
    }
  }
}

export class FakeServer {
  readonly conns: FakeConn[] = []
  welcome: Partial<{ maxInFlight: number; maxFrameBytes: number }> | false = {}

  readonly dial = (): Port => {
    const [client, server] = pair()
    this.conns.push(new FakeConn(server, this.welcome))
    return client
  }

  get last(): FakeConn {
    const c = this.conns[this.conns.length - 1]
    if (c === undefined) throw new Error('no connection yet')
    return c
  }

  async connections(n: number, timeoutMs = 1000): Promise<FakeConn> {
    const deadline = Date.now() + timeoutMs
    while (this.conns.length < n) {
      if (Date.now() > deadline) throw new Error(`only ${this.conns.length} connections`)
      await new Promise(r => setTimeout(r, 2))
    }
    return this.conns[n - 1] as FakeConn
  }
}

export const tick = (ms = 0): Promise<void> => new Promise(r => setTimeout(r, ms))
