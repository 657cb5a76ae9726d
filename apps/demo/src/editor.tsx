// The shared note: a CodeMirror 6 editor bound to db.text(NOTE_KEY), with the other peers'
// cursors (from presence) drawn in it and listed above it.
import { useEffect, useMemo, useRef } from 'react'
import { minimalSetup } from 'codemirror'
import { EditorState } from '@codemirror/state'
import { EditorView, highlightActiveLine, lineNumbers, placeholder } from '@codemirror/view'
import { useClient, usePresence, useText } from '@statecraft/react'
import { NOTE_KEY } from './demo-client.ts'
import { bindText, remoteCursors, setRemoteCursors, toCodePoints, type RemoteCursor } from './text-binding.ts'

interface PeerState {
  name: string
  color: string
  head: number
}

const isPeerState = (v: unknown): v is PeerState =>
  typeof v === 'object' && v !== null && typeof (v as PeerState).name === 'string' && typeof (v as PeerState).head === 'number'

export function Editor({ name, color }: { name: string; color: string }) {
  const db = useClient()
  const host = useRef<HTMLDivElement>(null)
  const view = useRef<EditorView | null>(null)
  const { exists, pending } = useText(NOTE_KEY)
  // The room is the note's key: the server lets in whoever may read it, once it exists.
  const { peers, set } = usePresence(exists ? NOTE_KEY : undefined)
  const cursors = useMemo<RemoteCursor[]>(
    () => [...peers].flatMap(([id, s]) => (isPeerState(s) ? [{ id, name: s.name, color: s.color, head: s.head }] : [])),
    [peers],
  )

  useEffect(() => {
    const parent = host.current
    if (parent === null) return
    const text = db.text(NOTE_KEY)
    const binding = bindText(text)
    const v = new EditorView({
      parent,
      state: EditorState.create({
        doc: text.value,
        extensions: [
          minimalSetup,
          lineNumbers(),
          highlightActiveLine(),
          placeholder('Type here; everyone signed in sees it live…'),
          EditorView.lineWrapping,
          binding.extension,
          remoteCursors,
          EditorView.updateListener.of(u => {
            if (u.selectionSet || u.docChanged) {
              window.dispatchEvent(new CustomEvent('demo-cursor', { detail: toCodePoints(u.state.doc, u.state.selection.main.head) }))
            }
          }),
        ],
      }),
    })
    view.current = v
    const stop = binding.attach(v)
    // What the editor shows, for the end-to-end tests (they compare it across pages).
    ;(window as { demoEditor?: unknown }).demoEditor = { text: () => v.state.doc.toString() }
    return () => {
      stop()
      v.destroy()
      view.current = null
    }
  }, [db])

  // Our cursor goes to the room as it moves.
  useEffect(() => {
    const onCursor = (e: Event): void => set({ name, color, head: (e as CustomEvent<number>).detail })
    window.addEventListener('demo-cursor', onCursor)
    return () => window.removeEventListener('demo-cursor', onCursor)
  }, [set, name, color])

  useEffect(() => {
    view.current?.dispatch({ effects: setRemoteCursors.of(cursors) })
  }, [cursors])

  return (
    <section className="card editor-card">
      <header className="card-head">
        <h2>Shared note</h2>
        <div className="peers" data-testid="peers">
          {cursors.map(c => (
            <span key={c.id} className="peer" style={{ background: c.color }} title={`${c.name} is here`}>
              {c.name}
            </span>
          ))}
          {pending && <span className="hint">saving…</span>}
        </div>
      </header>
      <div className="editor" ref={host} data-testid="editor" />
    </section>
  )
}
