// The demo page: sign in by name, then the shared note, your todos, the online switch and the
// status badge. Refused writes (rules or schema) show as dismissible errors; the client has already
// rolled them back.
import { useEffect, useMemo, useState, type FormEvent } from 'react'
import { StatecraftProvider, useClient, useStatus } from '@statecraft/react'
import { closeClient, demoClient, onRefused, setOffline, type RefusedWrite } from './demo-client.ts'
import { Editor } from './editor.tsx'
import { Todos } from './todos.tsx'

const NAME_KEY = 'statecraft-demo-name'
const COLORS = ['#e5484d', '#0090ff', '#30a46c', '#f76b15', '#8e4ec6', '#d6409f', '#12a594', '#ffb224']

function colorOf(name: string): string {
  let h = 0
  for (const c of name) h = (h * 31 + (c.codePointAt(0) ?? 0)) >>> 0
  return COLORS[h % COLORS.length] ?? '#0090ff'
}

function SignIn({ onName }: { onName: (n: string) => void }) {
  const [name, setName] = useState('')
  const ok = /^[a-z0-9_-]{1,32}$/i.test(name)
  const submit = (e: FormEvent): void => {
    e.preventDefault()
    if (ok) onName(name)
  }
  return (
    <main className="signin">
      <form className="card" onSubmit={submit}>
        <h1>Statecraft demo</h1>
        <p>A shared note and your own todo list, live across tabs and people, and fine offline.</p>
        <input data-testid="name" autoFocus placeholder="Your name (letters, digits, - and _)" value={name} onChange={e => setName(e.target.value)} />
        <button type="submit" disabled={!ok}>
          Sign in
        </button>
      </form>
    </main>
  )
}

function StatusBar({ name, onSignOut }: { name: string; onSignOut: () => void }) {
  const db = useClient()
  const { online, pending } = useStatus()
  const [wantOnline, setWantOnline] = useState(() => sessionStorage.getItem('statecraft-demo-offline') !== '1')
  const toggle = (): void => {
    setOffline(db, wantOnline)
    setWantOnline(!wantOnline)
  }
  return (
    <header className="bar">
      <div className="brand">
        <strong>Statecraft</strong> demo
      </div>
      <div className="bar-right">
        <span className={`badge ${online ? 'online' : 'offline'}`} data-testid="status">
          <i />
          {online ? 'online' : wantOnline ? 'connecting' : 'offline'}
          {pending > 0 && <b data-testid="pending">{pending} pending</b>}
        </span>
        <label className="switch" title="Work offline: edits wait in IndexedDB and merge when you come back">
          <input type="checkbox" data-testid="online-switch" checked={wantOnline} onChange={toggle} />
          <span />
          {wantOnline ? 'Online' : 'Offline'}
        </label>
        <span className="me" style={{ background: colorOf(name) }}>
          {name}
        </span>
        <button className="link" onClick={onSignOut}>
          Sign out
        </button>
      </div>
    </header>
  )
}

function Errors({ errors, onDismiss }: { errors: RefusedWrite[]; onDismiss: (id: number) => void }) {
  if (errors.length === 0) return null
  return (
    <div className="errors" role="alert" data-testid="errors">
      {errors.map(e => (
        <div key={e.id} className="error">
          <span>
            <b>{e.code === 'forbidden' ? 'Not allowed' : e.code === 'invalid' ? 'Rejected' : e.code}</b>: your write to <code>{e.key}</code> was refused
            and undone. <small>{e.message}</small>
          </span>
          <button className="icon" aria-label="dismiss" onClick={() => onDismiss(e.id)}>
            ×
          </button>
        </div>
      ))}
    </div>
  )
}

function Workspace({ name, onSignOut }: { name: string; onSignOut: () => void }) {
  const [errors, setErrors] = useState<RefusedWrite[]>([])
  useEffect(() => onRefused(e => setErrors(es => [...es.slice(-3), e])), [])
  const db = useMemo(() => demoClient(name), [name])
  useEffect(() => {
    // For poking at it from the console (and the end-to-end tests).
    ;(window as { demo?: unknown }).demo = { db }
  }, [db])
  const color = useMemo(() => colorOf(name), [name])
  return (
    <StatecraftProvider client={db}>
      <StatusBar name={name} onSignOut={onSignOut} />
      <Errors errors={errors} onDismiss={id => setErrors(es => es.filter(e => e.id !== id))} />
      <main className="grid">
        <Editor name={name} color={color} />
        <Todos name={name} />
      </main>
    </StatecraftProvider>
  )
}

export function App() {
  const [name, setName] = useState(() => localStorage.getItem(NAME_KEY) ?? '')
  if (name === '')
    return (
      <SignIn
        onName={n => {
          localStorage.setItem(NAME_KEY, n)
          setName(n)
        }}
      />
    )
  return (
    <Workspace
      key={name}
      name={name}
      onSignOut={() => {
        localStorage.removeItem(NAME_KEY)
        void closeClient(name)
        setName('')
      }}
    />
  )
}
