// A Port is one end of a message connection, whatever carries it: a WebSocket, or the in-process
// pair below (client and server tests with no socket). Server agents and remote stores speak to Ports.
import { frameSize, type Frame } from './codec.ts'

export interface Port {
  /** Queues a frame for the peer. A no-op once the port is closed. */
  send(frame: Frame): void
  /**
   * Closes the connection. The peer still gets the frames sent before, then its `onclose`; this end
   * takes no more frames. `onclose` runs once on each end.
   */
  close(code?: number, reason?: string): void
  /** Bytes handed to `send` and not yet taken by the peer (a WebSocket's `bufferedAmount`). */
  readonly bufferedAmount: number
  /** Set by the owner: each frame from the peer, in order. */
  onframe: ((frame: Frame) => void) | undefined
  /** Set by the owner: the connection is gone (either end closed it, or it broke). */
  onclose: ((code: number, reason: string) => void) | undefined
}

/** One end of an in-process pair. `pause()` stops delivery to this end, to play a slow reader. */
export interface LocalPort extends Port {
  pause(): void
  resume(): void
  /** Cuts the connection like a network failure: frames in flight either way are lost. */
  terminate(): void
  readonly closed: boolean
}

class LocalEnd implements LocalPort {
  peer: LocalEnd | undefined
  onframe: ((frame: Frame) => void) | undefined = undefined
  onclose: ((code: number, reason: string) => void) | undefined = undefined
  private inbox: Frame[] = []
  private head = 0
  private inboxBytes = 0
  private paused = false
  private scheduled = false
  private isClosed = false
  /** The peer closed: deliver what it sent before, then report the close. */
  private ending: { code: number; reason: string } | undefined

  get closed(): boolean {
    return this.isClosed || this.ending !== undefined
  }

  get bufferedAmount(): number {
    return this.peer?.inboxBytes ?? 0
  }

  send(frame: Frame): void {
    if (this.closed || this.peer === undefined) return
    // Copy binary frames: the sender may reuse its buffer, a socket would have copied it.
    this.peer.enqueue(typeof frame === 'string' ? frame : frame.slice())
  }

  private enqueue(f: Frame): void {
    if (this.closed) return
    this.inbox.push(f)
    this.inboxBytes += frameSize(f)
    this.schedule()
  }

  private schedule(): void {
    if (this.scheduled || this.paused || this.isClosed) return
    if (this.head >= this.inbox.length && this.ending === undefined) return
    this.scheduled = true
    queueMicrotask(() => this.flush())
  }

  private flush(): void {
    this.scheduled = false
    while (!this.paused && !this.isClosed && this.head < this.inbox.length) {
      const f = this.inbox[this.head] as Frame
      this.inbox[this.head++] = ''
      this.inboxBytes -= frameSize(f)
      if (this.head > 1024 && this.head * 2 > this.inbox.length) {
        this.inbox = this.inbox.slice(this.head)
        this.head = 0
      }
      this.onframe?.(f)
    }
    if (this.ending !== undefined && !this.paused && this.head >= this.inbox.length) this.shut(this.ending.code, this.ending.reason)
  }

  pause(): void {
    this.paused = true
  }

  resume(): void {
    this.paused = false
    this.schedule()
  }

  close(code = 1000, reason = ''): void {
    if (this.closed) return
    this.shut(code, reason)
    this.peer?.peerClosed(code, reason)
  }

  terminate(): void {
    if (this.isClosed) return
    this.shut(1006, 'terminated')
    this.peer?.shut(1006, 'terminated')
  }

  private peerClosed(code: number, reason: string): void {
    if (this.closed) return
    this.ending = { code, reason }
    this.schedule()
  }

  private shut(code: number, reason: string): void {
    if (this.isClosed) return
    this.isClosed = true
    this.ending = undefined
    this.inbox = []
    this.head = 0
    this.inboxBytes = 0
    queueMicrotask(() => this.onclose?.(code, reason))
  }
}

/** Two connected in-process ports. Frames arrive asynchronously (a microtask later), in order. */
export function pair(): [LocalPort, LocalPort] {
  const a = new LocalEnd()
  const b = new LocalEnd()
  a.peer = b
  b.peer = a
  return [a, b]
}
