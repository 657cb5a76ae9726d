// Binds a CodeMirror 6 view to a Statecraft text: local edits become text ops (insert/remove),
// remote changes become CodeMirror changes (so the local selection maps through them), and the
// other peers' cursors from presence are drawn as decorations. Statecraft counts positions in
// unicode code points, CodeMirror in UTF-16 units: the helpers convert.
import { Annotation, StateEffect, StateField, Transaction, type Extension, type Text } from '@codemirror/state'
import { Decoration, EditorView, WidgetType, type DecorationSet } from '@codemirror/view'
import type { TextHandle } from '@statecraft/client'

/** Marks a transaction that came from the server (not to be sent back). */
const fromRemote = Annotation.define<boolean>()

/** Code points in `s` (surrogate pairs count once). */
function codePointLength(s: string): number {
  let n = 0
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i)
    if (c < 0xd800 || c > 0xdbff || i + 1 >= s.length) n++
    else {
      n++
      i++
    }
  }
  return n
}

/** UTF-16 offset in `doc` → code point offset. */
export const toCodePoints = (doc: Text, pos: number): number => codePointLength(doc.sliceString(0, pos))

/** Code point offset → UTF-16 offset in `s` (clamped to its end). */
export function fromCodePoints(s: string, cp: number): number {
  let i = 0
  for (let n = 0; n < cp && i < s.length; n++) {
    const c = s.charCodeAt(i)
    i += c >= 0xd800 && c <= 0xdbff && i + 1 < s.length ? 2 : 1
  }
  return i
}

/** Keeps `view` and `text` equal in both directions. Returns the extension and a stop function. */
export function bindText(text: TextHandle): { extension: Extension; attach(view: EditorView): () => void } {
  let sending = false
  const extension = EditorView.updateListener.of(u => {
    if (!u.docChanged || u.transactions.every(t => t.annotation(fromRemote) === true)) return
    // Right to left, so each change's position in the old doc is still right when it is applied.
    const changes: { from: number; to: number; insert: string }[] = []
    u.changes.iterChanges((fromA, toA, _fromB, _toB, inserted) => changes.push({ from: fromA, to: toA, insert: inserted.toString() }))
    sending = true
    try {
      for (const c of changes.reverse()) {
        const at = toCodePoints(u.startState.doc, c.from)
        if (c.to > c.from) void text.remove(at, codePointLength(u.startState.doc.sliceString(c.from, c.to)))
        if (c.insert !== '') void text.insert(at, c.insert)
      }
    } finally {
      sending = false
    }
  })
  return {
    extension,
    attach(view) {
      return text.subscribe(value => {
        if (sending) return
        const cur = view.state.doc.toString()
        if (cur === value) return
        // The smallest change between the two: common prefix and suffix kept.
        let start = 0
        const max = Math.min(cur.length, value.length)
        while (start < max && cur.charCodeAt(start) === value.charCodeAt(start)) start++
        let end = 0
        while (end < max - start && cur.charCodeAt(cur.length - 1 - end) === value.charCodeAt(value.length - 1 - end)) end++
        view.dispatch({
          changes: { from: start, to: cur.length - end, insert: value.slice(start, value.length - end) },
          annotations: [fromRemote.of(true), Transaction.addToHistory.of(false)],
        })
      })
    },
  }
}

// ---- remote cursors

export interface RemoteCursor {
  id: string
  name: string
  color: string
  /** Code point offset in the shared text. */
  head: number
}

class CursorWidget extends WidgetType {
  constructor(
    readonly name: string,
    readonly color: string,
  ) {
    super()
  }

  override eq(other: CursorWidget): boolean {
    return other.name === this.name && other.color === this.color
  }

  toDOM(): HTMLElement {
    const caret = document.createElement('span')
    caret.className = 'remote-cursor'
    caret.style.borderColor = this.color
    const label = document.createElement('span')
    label.className = 'remote-cursor-label'
    label.style.background = this.color
    label.textContent = this.name
    caret.append(label)
    return caret
  }

  override ignoreEvent(): boolean {
    return true
  }
}

export const setRemoteCursors = StateEffect.define<RemoteCursor[]>()

function decorations(doc: Text, cursors: RemoteCursor[]): DecorationSet {
  const s = doc.toString()
  const marks = cursors
    .map(c => ({ c, pos: fromCodePoints(s, c.head) }))
    .sort((a, b) => a.pos - b.pos)
    .map(({ c, pos }) => Decoration.widget({ widget: new CursorWidget(c.name, c.color), side: 1 }).range(pos))
  return Decoration.set(marks)
}

/** The other peers' cursors: set with `setRemoteCursors`, mapped through edits in between. */
export const remoteCursors = StateField.define<DecorationSet>({
  create: () => Decoration.none,
  update(deco, tr) {
    let next = deco.map(tr.changes)
    for (const e of tr.effects) if (e.is(setRemoteCursors)) next = decorations(tr.state.doc, e.value)
    return next
  },
  provide: f => EditorView.decorations.from(f),
})
