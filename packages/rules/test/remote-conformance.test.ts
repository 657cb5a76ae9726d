// The rules behind the server keep the store contract end to end: the conformance suite through a
// remote store connected (in process) to a server whose rules allow everything, with rules that
// look at values, so every read and write takes the checked paths.
import { memoryStore, type Store } from '@statecraft/core'
import { connect } from '@statecraft/client'
import { createServer } from '@statecraft/server'
import { runStoreTests } from '@statecraft/test-kit'
import { defineRules } from '@statecraft/rules'

const quiet = (): void => {}

const allowByValue = defineRules<{ uid: string }>({
  '**': {
    read: ({ auth, value }) => auth !== null && value !== '__never__',
    write: ({ auth, newValue }) => auth !== null && newValue !== '__never__',
  },
})

async function remote(store: Store): Promise<Store> {
  const server = await createServer({ store, rules: allowByValue, authenticate: t => (t === undefined ? null : { uid: t }), log: quiet })
  const db = await connect(() => server.connectLocal(), { auth: () => 'ann', log: quiet })
  const close = db.close.bind(db)
  return Object.assign(db, {
    close: async () => {
      await close()
      await server.close()
      await store.close()
    },
  })
}

runStoreTests('remote store through the server, rules by value', () => remote(memoryStore()), {
  makeStoreWithHistory: n => remote(memoryStore({ historyLimit: n })),
})
