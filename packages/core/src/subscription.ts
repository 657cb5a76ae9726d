// A push-fed Subscription: producers `push` updates, the consumer iterates — or, through `listen`,
// takes them synchronously as they are pushed. Used by every store.
import { StatecraftError } from './errors.ts'
import type { Subscription, Update } from './types.ts'

export interface Feed {
  /**
   * Hands the consumer an update. `shared`: an object the producer passes with every push of the
   * same content to several subscriptions (the Fanout passes the committed txn record when a
   * subscriber gets all of it), so a listener may encode that content once for all of them.
   * Undefined when the update is this subscription's own.
   */
  push(u: Update, shared?: object): void
  /** Ends the subscription; with an error, the consumer's next read rejects with it. */
  end(err?: StatecraftError): void
  readonly closed: boolean
}

/** Takes a subscription's updates synchronously, in the producer's call (see `listen`). */
export interface SubscriptionListener {
  /** An update, in order. `shared` as in `Feed.push`. Must not throw (a throw ends the subscription with `internal`). */
  update(u: Update, shared: object | undefined): void
  /** The producer ended the subscription (`err` undefined: plainly). Not called when the consumer closes it. */
  end(err: StatecraftError | undefined): void
}

/**
 * The key of the method by which a subscription made by `makeSubscription` switches to push
 * delivery (`listen`). A registered symbol, so a consumer can look for it without importing this
 * module's helpers.
 */
export const LISTEN: unique symbol = Symbol.for('statecraft.subscription.listen') as never

/** A subscription that can switch to push delivery. */
export interface ListenableSubscription extends Subscription {
  [LISTEN](listener: SubscriptionListener): boolean
}

/**
 * Switches `sub` to push delivery: the updates it holds are handed to `listener` now and every later
 * one in the producer's `push`, with no promise per update; its async iterator is not to be used
 * any more (reading it rejects with `invalid`). `sub.close()` still ends it. Returns false, and
 * changes nothing, when `sub` cannot: not made by `makeSubscription` (a proxy's own subscription),
 * already listened to, or already being read. The Store contract is unchanged: this is an option
 * for consumers on the same thread as the store (the server's connections), which fall back to
 * iterating when it returns false.
 */
export function listen(sub: Subscription, listener: SubscriptionListener): boolean {
  const f = (sub as Partial<ListenableSubscription>)[LISTEN]
  return typeof f === 'function' ? f.call(sub, listener) : false
}

/**
 * A Feed made of closures. A class, so that `closed` is a getter on the prototype: V8 makes an
 * object with a getter of its own (an object literal's `get closed() {…}`, or one defined on it)
 * a ~290-byte dictionary with slow property reads, and there is one feed per subscription.
 */
class ClosureFeed implements Feed {
  constructor(
    readonly push: (u: Update, shared?: object) => void,
    readonly end: (err?: StatecraftError) => void,
    private readonly isClosed: () => boolean,
  ) {}

  get closed(): boolean {
    return this.isClosed()
  }
}

/** A Feed from its three parts (`closed` read through `isClosed`). */
export const feedOf = (push: Feed['push'], end: Feed['end'], isClosed: () => boolean): Feed => new ClosureFeed(push, end, isClosed)

/**
 * Makes a Subscription and the Feed that fills it. `onClose` runs once, when the consumer closes
 * it, breaks out of its loop, or the producer ends it. Updates queue until read.
 */
export function makeSubscription(onClose: () => void): { sub: Subscription; feed: Feed } {
  const queue: Update[] = []
  let waiting: { resolve: (r: IteratorResult<Update>) => void; reject: (e: unknown) => void } | undefined
  let done = false
  let error: StatecraftError | undefined
  let listener: SubscriptionListener | undefined
  /** The iterator was read (next() called) at least once. */
  let read = false
  /** It ended by the consumer's close (or return), not the producer's end. */
  let consumerClosed = false

  const finish = (err?: StatecraftError, byConsumer = false): void => {
    if (done) return
    done = true
    error = err
    consumerClosed = byConsumer
    onClose()
    if (listener !== undefined) {
      error = undefined
      if (!byConsumer) listener.end(err)
      return
    }
    if (waiting !== undefined) {
      const w = waiting
      waiting = undefined
      if (err !== undefined) {
        error = undefined
        w.reject(err)
      } else w.resolve({ value: undefined, done: true })
    }
  }

  /** Hands `u` to the listener; a throwing listener ends the subscription. */
  const deliver = (l: SubscriptionListener, u: Update, shared: object | undefined): void => {
    try {
      l.update(u, shared)
    } catch (e) {
      finish(new StatecraftError('internal', `a subscription listener threw: ${e instanceof Error ? e.message : String(e)}`))
    }
  }

  const iterator: AsyncIterator<Update> = {
    next() {
      read = true
      if (listener !== undefined) return Promise.reject(new StatecraftError('invalid', 'this subscription delivers to a listener; it cannot be iterated'))
      const u = queue.shift()
      if (u !== undefined) return Promise.resolve({ value: u, done: false })
      if (done) {
        if (error !== undefined) {
          const e = error
          error = undefined
          return Promise.reject(e)
        }
        return Promise.resolve({ value: undefined, done: true })
      }
      if (waiting !== undefined) return Promise.reject(new StatecraftError('invalid', 'a subscription is read by one reader at a time'))
      return new Promise((resolve, reject) => {
        waiting = { resolve, reject }
      })
    },
    return() {
      queue.length = 0
      finish(undefined, true)
      return Promise.resolve({ value: undefined, done: true })
    },
  }

  const feed = feedOf(
    (u, shared) => {
      if (done) return
      if (listener !== undefined) deliver(listener, u, shared)
      else if (waiting !== undefined) {
        const w = waiting
        waiting = undefined
        w.resolve({ value: u, done: false })
      } else queue.push(u)
    },
    err => finish(err),
    () => done,
  )

  const startListening = (l: SubscriptionListener): boolean => {
    if (listener !== undefined || read) return false
    listener = l
    if (done) {
      // Ended before: by the consumer (nothing more to tell), or by the producer (what it pushed, then its end).
      if (consumerClosed) return true
      const err = error
      error = undefined
      try {
        for (const u of queue.splice(0)) l.update(u, undefined)
      } catch {
        // It ends anyway.
      }
      l.end(err)
      return true
    }
    while (queue.length > 0 && !done) deliver(l, queue.shift() as Update, undefined)
    return true
  }

  const sub: ListenableSubscription = {
    [Symbol.asyncIterator]: () => iterator,
    close() {
      queue.length = 0
      finish(undefined, true)
    },
    [LISTEN]: startListening,
  }
  return { sub, feed }
}
