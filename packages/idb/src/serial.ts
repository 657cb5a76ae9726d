// A queue that runs async tasks one at a time, in call order (the store's single writer).
export class Serial {
  private tail: Promise<unknown> = Promise.resolve()

  /** Runs `fn` after every task queued before it has settled. */
  run<T>(fn: () => Promise<T> | T): Promise<T> {
    const p = this.tail.then(fn)
    this.tail = p.catch(() => {})
    return p
  }
}
