// The signed-in user's todos: a live query on todos/<name>/ (rules let only them read and write
// it), each row a useDoc. Nothing is checked here: the server's schema and rules decide, and a
// refused write rolls back on its own.
import { useState, type FormEvent } from 'react'
import { prefix } from '@statecraft/core'
import { useClient, useDoc, useQuery } from '@statecraft/react'

export interface Todo {
  title: string
  done: boolean
}

const newId = (): string => `${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 7)}`

function TodoRow({ id }: { id: string }) {
  const { value, pending, doc } = useDoc<Todo>(id)
  if (value === undefined) return null
  return (
    <li className={`todo${value.done ? ' done' : ''}${pending ? ' pending' : ''}`} data-testid="todo">
      <label>
        <input type="checkbox" checked={value.done} onChange={e => void doc.setAt(['done'], e.target.checked)} />
        <span className="title">{value.title}</span>
      </label>
      <button className="icon" aria-label="delete" onClick={() => void doc.delete()}>
        ×
      </button>
    </li>
  )
}

export function Todos({ name }: { name: string }) {
  const db = useClient()
  const { rows, caughtUp } = useQuery(prefix(`todos/${name}/`))
  const [title, setTitle] = useState('')
  const add = (e: FormEvent): void => {
    e.preventDefault()
    const t = title.trim()
    if (t === '') return
    setTitle('')
    void db.doc<Todo>(`todos/${name}/${newId()}`).set({ title: t, done: false })
  }
  const open = [...rows.values()].filter(v => (v as Todo | null)?.done === false).length
  return (
    <section className="card todo-card">
      <header className="card-head">
        <h2>My todos</h2>
        <span className="hint">{caughtUp || rows.size > 0 ? `${open} open` : 'loading…'}</span>
      </header>
      <form onSubmit={add} className="add">
        <input data-testid="new-todo" placeholder="What needs doing?" value={title} onChange={e => setTitle(e.target.value)} />
        <button type="submit">Add</button>
      </form>
      <ul className="todos" data-testid="todos">
        {[...rows.keys()].map(k => (
          <TodoRow key={k} id={k} />
        ))}
      </ul>
      {rows.size === 0 && caughtUp && <p className="empty">Nothing yet. Other users never see these.</p>}
      <button className="link" data-testid="write-other" onClick={() => void db.doc<Todo>(`todos/someone-else/${newId()}`).set({ title: `from ${name}`, done: false })}>
        Try writing someone else’s todo
      </button>
    </section>
  )
}
