// A push-fed Subscription: producers `push` updates, the consumer iterates. Used by every store.
import { StatecraftError } from './errors.ts'
import type { Subscription, Update } from './types.ts'

export interface Feed {
  push(u: Update): void
  /** Ends the subscription; with an error, the consumer's next read rejects with it. */
  end(err?: StatecraftError): void
  readonly closed: boolean
}

/**
 * Makes a Subscription and the Feed that fills it. `onClose` runs once, when the consumer closes
 * it, breaks out of its loop, or the producer ends it. Updates queue until read.
 */
export function makeSubscription(onClose: () => void): { sub: Subscription; feed: Feed } {
  const queue: Update[] = []
  let waiting: { resolve: (r: IteratorResult<Update>) => void; reject: (e: unknown) => void } | undefined
  let done = false
  let error: StatecraftError | undefined

  const finish = (err?: StatecraftError): void => {
    if (done) return
    done = true
    error = err
    onClose()
    if (waiting !== undefined) {
      const w = waiting
      waiting = undefined
      if (err !== undefined) {
        error = undefined
        w.reject(err)
      } else w.resolve({ value: undefined, done: true })
    }
  }

  const iterator: AsyncIterator<Update> = {
    next() {
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
      finish()
      return Promise.resolve({ value: undefined, done: true })
    },
  }

  const feed: Feed = {
    push(u) {
      if (done) return
      if (waiting !== undefined) {
        const w = waiting
        waiting = undefined
        w.resolve({ value: u, done: false })
      } else queue.push(u)
    },
    end: finish,
    get closed() {
      return done
    },
  }

  const sub: Subscription = {
    [Symbol.asyncIterator]: () => iterator,
    close() {
      queue.length = 0
      finish()
    },
  }
  return { sub, feed }
}
