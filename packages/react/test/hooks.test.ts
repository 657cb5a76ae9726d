// @vitest-environment happy-dom
// The hooks in a real React 19 renderer (react-dom in happy-dom) against clients on an in-process
// server: updates arrive, nothing re-renders when nothing changed, StrictMode opens nothing twice.
import { afterEach, expect, test } from 'vitest'
import { StrictMode, Suspense, act, createElement, type ReactNode } from 'react'
import { createRoot, type Root } from 'react-dom/client'
import { memoryStore, prefix, type Json } from '@statecraft/core'
import { createServer, type StatecraftServer } from '@statecraft/server'
import { createClient, type StatecraftClient } from '@statecraft/client'
import { StatecraftProvider, useDoc, usePresence, useQuery, useStatus, useText, type DocView, type QueryView } from '@statecraft/react'

;(globalThis as { IS_REACT_ACT_ENVIRONMENT?: boolean }).IS_REACT_ACT_ENVIRONMENT = true

const open: { close(): Promise<void> }[] = []
const roots: Root[] = []
afterEach(async () => {
  for (const r of roots.splice(0)) act(() => r.unmount())
  for (const x of open.splice(0).reverse()) await x.close()
})

async function setup(): Promise<{ server: StatecraftServer; client: () => StatecraftClient }> {
  const server = await createServer({ store: memoryStore(), log: () => {} })
  open.push(server)
  return {
    server,
    client: () => {
      const c = createClient({ dial: () => server.connectLocal(), log: () => {} })
      open.push(c)
      return c
    },
  }
}

function render(client: StatecraftClient, node: ReactNode, strict = false): { container: HTMLElement; rerender: (n: ReactNode) => void } {
  const container = document.createElement('div')
  const root = createRoot(container)
  roots.push(root)
  const wrap = (n: ReactNode): ReactNode => {
    const app = createElement(StatecraftProvider, { client }, n)
    return strict ? createElement(StrictMode, null, app) : app
  }
  act(() => root.render(wrap(node)))
  return { container, rerender: n => act(() => root.render(wrap(n))) }
}

/** Polls `cond` inside act until it holds (React flushes the updates the client caused). */
async function until(cond: () => boolean, ms = 3000): Promise<void> {
  const end = Date.now() + ms
  for (;;) {
    let ok = false
    await act(async () => {
      ok = cond()
      if (!ok) await new Promise(r => setTimeout(r, 10))
    })
    if (ok) return
    if (Date.now() > end) throw new Error(`timed out waiting for ${cond.toString()}`)
  }
}

/** Lets every in-flight message settle. */
async function settle(...clients: StatecraftClient[]): Promise<void> {
  await act(async () => {
    for (const c of clients) await c.whenSynced()
    await new Promise(r => setTimeout(r, 30))
  })
}

interface Todo {
  title: string
  done: boolean
}

test('useDoc shows the value, updates from another client arrive, and unrelated writes do not re-render', async () => {
  const { client } = await setup()
  const a = client()
  const b = client()
  const views: DocView<Todo>[] = []
  function Show(): ReactNode {
    const v = useDoc<Todo>('todos/1')
    views.push(v)
    return v.value === undefined ? 'none' : v.value.title
  }
  const { container } = render(a, createElement(Show))
  expect(container.textContent).toBe('none')
  await settle(a)
  const before = views.length
  await act(async () => {
    await b.doc('todos/2').set({ title: 'other', done: false })
    await b.doc('other/x').set({ title: 'other', done: false })
    await a.whenSynced()
  })
  expect(views.length).toBe(before) // nothing this component reads changed
  await act(async () => {
    await b.doc<Todo>('todos/1').set({ title: 'from b', done: false })
  })
  await until(() => container.textContent === 'from b')
  const n = views.length
  await settle(a, b)
  expect(views.length).toBe(n)
  // Every render in a row without a change saw the very same object.
  for (let i = 1; i < views.length; i++) if (views[i]?.value === views[i - 1]?.value) expect(views[i]).toBe(views[i - 1])
})

test('a local write shows at once as pending, then as acknowledged; the handle writes', async () => {
  const { client } = await setup()
  const a = client()
  const seen: string[] = []
  function Show(): ReactNode {
    const v = useDoc<Todo>('todos/1')
    seen.push(`${v.value?.title ?? '-'}${v.pending ? '*' : ''}`)
    return createElement('button', { onClick: () => void v.doc.set({ title: 'clicked', done: true }) }, v.value?.title ?? '-')
  }
  const { container } = render(a, createElement(Show))
  await settle(a)
  act(() => (container.querySelector('button') as HTMLButtonElement).click())
  expect(container.textContent).toBe('clicked')
  expect(seen).toContain('clicked*')
  await until(() => seen[seen.length - 1] === 'clicked')
})

test('useQuery: rows from another client arrive; an inline query per render keeps one subscription', async () => {
  const { server, client } = await setup()
  const a = client()
  const b = client()
  const views: QueryView[] = []
  function List({ n }: { n: number }): ReactNode {
    const q = useQuery(prefix('todos/'))
    views.push(q)
    return `${n}:${[...q.rows.keys()].join(',')}`
  }
  const { container, rerender } = render(a, createElement(List, { n: 1 }))
  await settle(a)
  await act(async () => {
    await b.doc('todos/1').set({ title: 'one', done: false })
    await b.doc('todos/2').set({ title: 'two', done: false })
  })
  await until(() => container.textContent === '1:todos/1,todos/2')
  await settle(a, b)
  const subs = server.backend.stats().subscriptions
  rerender(createElement(List, { n: 2 }))
  rerender(createElement(List, { n: 3 }))
  expect(container.textContent).toBe('3:todos/1,todos/2')
  await settle(a, b)
  expect(server.backend.stats().subscriptions).toBe(subs)
  // The re-renders of the parent reuse the same rows object.
  expect(views[views.length - 1]).toBe(views[views.length - 2])
  const n = views.length
  await act(async () => {
    await b.doc('elsewhere/1').set({ title: 'x', done: false })
  })
  await settle(a, b)
  expect(views.length).toBe(n)
})

test('useText and useStatus: offline edits are pending, going online sends them', async () => {
  const { client } = await setup()
  const a = client()
  const statuses: string[] = []
  function Editor(): ReactNode {
    const t = useText('notes/1')
    const s = useStatus()
    statuses.push(`${s.online ? 'on' : 'off'}/${s.pending}`)
    return `${t.value}|${s.online ? 'on' : 'off'}|${s.pending}`
  }
  const { container } = render(a, createElement(Editor))
  await until(() => container.textContent === '|on|0')
  const renders = statuses.length
  await settle(a)
  expect(statuses.length).toBe(renders) // a caught-up subscription changes no field shown
  act(() => a.goOffline())
  await until(() => container.textContent === '|off|0')
  await act(async () => {
    void a.text('notes/1').insert(0, 'hello')
  })
  expect(container.textContent).toBe('hello|off|1')
  act(() => a.goOnline())
  await until(() => container.textContent === 'hello|on|0')
})

test('useDoc with suspense: the fallback until the doc is known, then the value', async () => {
  const { client } = await setup()
  const b = client()
  await b.doc('todos/s').set({ title: 'suspended', done: false })
  const a = client()
  function Show(): ReactNode {
    const v = useDoc<Todo>('todos/s', { suspense: true })
    return v.value?.title ?? 'none'
  }
  const { container } = render(a, createElement(Suspense, { fallback: 'loading' }, createElement(Show)))
  expect(container.textContent).toBe('loading')
  await until(() => container.textContent === 'suspended')
})

test('usePresence: two clients see each other, and a peer leaves when its component unmounts', async () => {
  const { client } = await setup()
  const a = client()
  const b = client()
  function Peers({ name }: { name: string }): ReactNode {
    const { peers } = usePresence('notes/1', { name })
    return [...peers.values()].map(p => (p as { name: string }).name).join(',')
  }
  const ra = render(a, createElement(Peers, { name: 'ann' }))
  const rb = render(b, createElement(Peers, { name: 'bob' }))
  await until(() => ra.container.textContent === 'bob' && rb.container.textContent === 'ann')
  rb.rerender(createElement(Peers, { name: 'bobby' }))
  await until(() => ra.container.textContent === 'bobby')
  rb.rerender(null)
  await until(() => ra.container.textContent === '', 2000)
})

test('usePresence across a reconnect: the room is joined again with the last state', async () => {
  const { client } = await setup()
  const a = client()
  const b = client()
  function Peers({ name }: { name: string }): ReactNode {
    const { peers } = usePresence('notes/1', { name })
    return [...peers.values()].map(p => (p as { name: string }).name).join(',')
  }
  const ra = render(a, createElement(Peers, { name: 'ann' }))
  render(b, createElement(Peers, { name: 'bob' }))
  await until(() => ra.container.textContent === 'bob')
  act(() => b.goOffline())
  await until(() => ra.container.textContent === '')
  act(() => b.goOnline())
  await until(() => ra.container.textContent === 'bob')
})

test('StrictMode: double renders and effects open no extra subscription or presence member, and write nothing twice', async () => {
  const counts: Record<string, { subs: number; members: number; versions: number }> = {}
  for (const strict of [false, true]) {
    const { server, client } = await setup()
    const a = client()
    const writes: string[] = []
    function App(): ReactNode {
      const d = useDoc<Todo>('todos/1')
      const t = useText('notes/1')
      const q = useQuery(prefix('todos/'))
      const s = useStatus()
      const p = usePresence('notes/1', { name: 'ann' } as Json)
      return `${d.value?.title ?? '-'}|${t.value}|${q.rows.size}|${s.pending}|${p.peers.size}`
    }
    const { container } = render(a, createElement(App), strict)
    await settle(a)
    await until(() => server.backend.presenceStats().members === 1)
    await act(async () => {
      writes.push('x')
      await a.doc('todos/1').set({ title: 't', done: false })
      await a.text('notes/1').insert(0, 'hi')
    })
    await until(() => container.textContent === 't|hi|1|0|0')
    await settle(a)
    await new Promise(r => setTimeout(r, 150)) // past the presence leave delay
    const versions = (await a.remote()).info.sources.length
    counts[String(strict)] = { subs: server.backend.stats().subscriptions, members: server.backend.presenceStats().members, versions }
    const stored = await server.backend.store.fetch(prefix(''))
    expect([...stored.results.keys()]).toEqual(['notes/1', 'todos/1'])
    expect(Object.values(stored.versions)[0]).toBe(2) // two writes, each once
  }
  expect(counts['true']).toEqual(counts['false'])
  expect(counts['true']?.members).toBe(1)
})
