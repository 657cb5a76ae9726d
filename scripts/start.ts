// `npm start`: the main job. Until the server lands, a short tour of the memory store.
import { keys, memoryStore, prefix, applyUpdate, type Key, type Value } from '@statecraft/core'

const store = memoryStore()
const view = new Map<Key, Value>()
const sub = store.subscribe(prefix('todos/'))
const live = (async () => {
  for await (const u of sub) {
    applyUpdate(view, u)
    console.log(`  subscriber sees v${String(Object.values(u.versions)[0])}:`, JSON.stringify(Object.fromEntries(view)))
  }
})()

console.log('set two todos in one txn')
const v1 = await store.mutate(new Map([
  ['todos/1', { type: 'set', value: { title: 'write the contract', done: false } }],
  ['todos/2', { type: 'set', value: { title: 'pass the suite', done: false } }],
]))
console.log('edit todos/1 with a json1 op')
await store.mutate(new Map([['todos/1', { type: 'json1', op: ['done', { r: true, i: true }] }]]))
console.log('two concurrent text edits on the same base version merge')
await store.mutate(new Map([['notes/readme', { type: 'text', op: ['Hello'] }]]))
const base = (await store.fetch(keys('notes/readme'))).versions
await store.mutate(new Map([['notes/readme', { type: 'text', op: [5, ', world'] }]]), { baseVersions: base })
await store.mutate(new Map([['notes/readme', { type: 'text', op: [5, '!'] }]]), { baseVersions: base })
console.log('  notes/readme =', JSON.stringify((await store.fetch(keys('notes/readme'))).results.get('notes/readme')))
console.log('a set based on v1 after todos/1 changed at v2 is refused:')
await store.mutate(new Map([['todos/1', { type: 'set', value: { title: 'stale', done: false } }]]), { baseVersions: v1 })
  .then(() => console.log('  applied (unexpected)'), (e: Error) => console.log(`  ${e.name}: ${e.message}`))
sub.close()
await live
await store.close()
