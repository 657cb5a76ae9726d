// The subscriptions a proxy handed out, so closing the proxy ends them (a proxy does not own, and
// does not close, the store behind it).
import type { Subscription, Update } from '@statecraft/core'

export class SubscriptionSet {
  private readonly open = new Set<Subscription>()

  /** Wraps `sub` so it is forgotten once it ends, however it ends. */
  track(sub: Subscription): Subscription {
    const it = sub[Symbol.asyncIterator]()
    const forget = (): void => {
      this.open.delete(wrapper)
    }
    const iterator: AsyncIterator<Update> = {
      async next() {
        try {
          const r = await it.next()
          if (r.done === true) forget()
          return r
        } catch (e) {
          forget()
          throw e
        }
      },
      async return() {
        forget()
        sub.close()
        return { value: undefined, done: true }
      },
    }
    const wrapper: Subscription = {
      [Symbol.asyncIterator]: () => iterator,
      close() {
        forget()
        sub.close()
      },
    }
    this.open.add(wrapper)
    return wrapper
  }

  /** Adds a subscription that removes itself (with `forget`) when it ends. */
  add(sub: Subscription): void {
    this.open.add(sub)
  }

  forget(sub: Subscription): void {
    this.open.delete(sub)
  }

  closeAll(): void {
    const all = [...this.open]
    this.open.clear()
    for (const s of all) s.close()
  }
}
