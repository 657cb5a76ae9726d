// A rope for text documents edited by ot-text-unicode ops, so an edit does not copy the text.
//
// Positions are ot-text-unicode's (unicount's): scanning from the start, a UTF-16 unit in
// D800–DFFF starts a two-unit position (a surrogate pair, or a lone surrogate with whatever unit
// follows it); any other unit is one position. A text that ends inside such a position (a trailing
// lone surrogate) "overhangs": that last position can be deleted but not skipped, as in
// ot-text-unicode.
//
// Layout: leaves (plain strings of up to MAX units) in groups of up to GROUP leaves, each with its
// position count; a leaf with no surrogate (`astral` false) maps positions to units 1:1 without
// scanning. Every leaf starts on a position boundary and only the last may overhang. A cursor (the
// last leaf found and where it starts) makes edits near the previous one O(k); a far seek walks the
// group counts, then one group's leaves (O(n / 64K + 64): two levels, not a tree, which is simpler
// and, up to tens of MB, as fast). Leaves are never changed, and groups are copied on write, so
// `clone` costs one array of groups and a store can keep a value while it plans the next one.
// Single-character edits at typing locality run at ~1.5–2.5 million ops/s on 0.1–2 MB texts
// (~1–1.7 million with astral characters), measured on a busy 2-core machine.
import { type as textType } from 'ot-text-unicode'
import type { TextOp } from 'ot-text-unicode'
import { StatecraftError } from './errors.ts'

/** A leaf past this many UTF-16 units is split in two; one under MIN is merged with a neighbour. */
const MAX = 2048
const MIN = MAX / 4
/** Leaves per group; a group past it is split in two, one under GROUP / 4 joins a neighbour. */
const GROUP = 64

/** Never changed once in a group (an edit puts a new leaf in its place; toString swaps in an equal string), so ropes can share leaves. */
interface Leaf {
  s: string
  /** Positions in `s`. */
  n: number
  /** `s` may hold a surrogate (false: no scan needed to find a position). */
  astral: boolean
  /** `s` may hold a unit over 0xff (V8 then stores it two bytes a unit); for heapBytes. */
  wide: boolean
}

interface Group {
  leaves: Leaf[]
  n: number
  /** The rope generation that may change this group in place; any other copies it first. */
  gen: number
  /** Heap bytes of the group and its leaves, -1 until counted (reset whenever the group may change). */
  bytes: number
  /** The group's text as a cons string, once `lazyString` built it (reset with `bytes`). */
  text?: string | undefined
}

/** Generations: a rope changes in place only groups of its own generation (see `clone`). */
let generations = 0

const SURROGATES = /[\ud800-\udfff]/
const WIDE_UNITS = /[\u0100-\uffff]/
const F_WIDE = 1
const F_ASTRAL = 2

/**
 * `s` as a string of its own. V8 represents a slice of 13+ units as a view of its parent string,
 * which stays alive as long as the view does; flattening a fresh cons string copies the units.
 */
export const ownString = (s: string): string => (s.length < 13 ? s : (' ' + s).slice(1))

const isSurrogate = (c: number): boolean => (c & 0xf800) === 0xd800

/** F_ASTRAL and F_WIDE as `s` needs them. */
function flagsOf(s: string): number {
  if (s.length > 16) return SURROGATES.test(s) ? F_ASTRAL | F_WIDE : WIDE_UNITS.test(s) ? F_WIDE : 0
  let f = 0
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i)
    if (c > 0xff) {
      if (isSurrogate(c)) return F_ASTRAL | F_WIDE
      f = F_WIDE
    }
  }
  return f
}

/** Positions in `s` (a trailing partial position counts as one). */
function countPositions(s: string): number {
  let n = 0
  for (let i = 0; i < s.length; i += isSurrogate(s.charCodeAt(i)) ? 2 : 1) n++
  return n
}

/** True when `s`'s last position needs a unit past its end (unicount would reject its length). */
function overhangs(s: string): boolean {
  let i = 0
  while (i < s.length) i += isSurrogate(s.charCodeAt(i)) ? 2 : 1
  return i > s.length
}

const leafOf = (s: string, flags: number, n: number): Leaf => ({ s, n, astral: (flags & F_ASTRAL) !== 0, wide: (flags & F_WIDE) !== 0 })

/** Cuts `s` into leaves of about `target` units, on position boundaries. */
function cut(s: string, flags: number, target: number, out: Leaf[]): void {
  if ((flags & F_ASTRAL) === 0) {
    for (let a = 0; a < s.length; a += target) {
      const piece = s.slice(a, a + target)
      out.push(leafOf(piece, (flags & F_WIDE) === 0 ? 0 : flagsOf(piece), piece.length))
    }
    return
  }
  let start = 0
  let n = 0
  let i = 0
  while (i < s.length) {
    i += isSurrogate(s.charCodeAt(i)) ? 2 : 1
    n++
    if (i - start >= target || i >= s.length) {
      const piece = s.slice(start, i)
      out.push(leafOf(piece, flagsOf(piece), n))
      start = i
      n = 0
    }
  }
}

function groupsOf(leaves: Leaf[], gen: number, out: Group[]): void {
  const size = GROUP / 2
  for (let a = 0; a < leaves.length; a += size) {
    const part = leaves.slice(a, a + size)
    let n = 0
    for (const l of part) n += l.n
    out.push({ leaves: part, n, gen, bytes: -1 })
  }
}

const invalid = (message: string): StatecraftError => new StatecraftError('invalid', message)

/** Throws `invalid` unless `op` is a well-formed ot-text-unicode op. */
export function checkTextOp(op: unknown): asserts op is TextOp {
  try {
    textType.checkOp(op as TextOp)
  } catch (e) {
    throw invalid(`malformed text op: ${e instanceof Error ? e.message : String(e)}`)
  }
}

/** One place an op edits, in the positions of the text before the op. */
interface Edit {
  pos: number
  del: number
  ins: string
}

/** Appends a component to an op as ot-text-unicode's makeAppend does (merging like neighbours). */
function append(op: TextOp, c: number | string | { d: string }): void {
  const last = op[op.length - 1]
  if (last === undefined || typeof last !== typeof c) op.push(c as TextOp[number])
  else if (typeof c === 'number') op[op.length - 1] = (last as number) + c
  else if (typeof c === 'string') op[op.length - 1] = (last as string) + c
  else op[op.length - 1] = { d: ((last as { d: string }).d) + c.d }
}

/** Set by TextRope's static block: the text as a cons string of the leaves (see `lazyString`). */
let concatLeaves: (r: TextRope) => string

export class TextRope {
  static {
    concatLeaves = r => {
      const parts = r.groups.map(g => (g.text ??= concat(g.leaves.map(l => l.s), 0, g.leaves.length)))
      return (r.str = concat(parts, 0, parts.length))
    }
  }

  private groups: Group[] = []
  private gen = ++generations
  private n = 0
  /** The whole text while no edit has happened since it was built. */
  private str: string | undefined
  // The cursor: a group and leaf index and where each starts.
  private cg = 0
  private cgStart = 0
  private cl = 0
  private clStart = 0
  // A known position boundary in an astral leaf (position, unit), so typing there scans nothing.
  private hLeaf: Leaf | undefined
  private hPos = 0
  private hUnit = 0

  constructor(text = '') {
    this.load(text)
  }

  /** Length in ot-text-unicode positions (code points as unicount counts them). */
  get length(): number {
    return this.n
  }

  /** The whole text; cached until the next edit. */
  toString(): string {
    if (this.str !== undefined) return this.str
    const parts: string[] = []
    for (const g of this.groups) for (const l of g.leaves) parts.push(l.s)
    const str = parts.join('')
    // The leaves become slices of the one flat string, so the rope and its string share memory.
    let at = 0
    for (const g of this.groups)
      for (const l of g.leaves) {
        const len = l.s.length
        l.s = str.slice(at, at + len)
        at += len
      }
    this.str = str
    return str
  }

  /**
   * Applies an ot-text-unicode op in place. Throws StatecraftError('invalid', ...) naming the
   * problem, and changes nothing, when the op does not fit (skip or delete past the end, a
   * `{d: string}` whose text differs from the doc, a malformed component).
   */
  apply(op: TextOp): void {
    const edits = this.plan(op)
    for (let i = edits.length - 1; i >= 0; i--) {
      const e = edits[i] as Edit
      if (e.del > 0) this.removeAt(e.pos, e.del)
      if (e.ins !== '') this.insertAt(e.pos, e.ins)
    }
  }

  /** What ot-text-unicode's invertWithDoc(op, this.toString()) returns, without building the string. Does not modify the rope. Throws `invalid` as `apply` would. */
  invert(op: TextOp): TextOp {
    this.plan(op)
    const out: TextOp = []
    let pre = 0
    for (const c of op) {
      if (typeof c === 'number') {
        append(out, c)
        pre += c
      } else if (typeof c === 'string') {
        if (overhangs(c)) throw invalid(`text op: the insert ${JSON.stringify(c)} ends inside a surrogate pair`)
        append(out, { d: c })
      } else {
        const n = typeof c.d === 'number' ? c.d : countPositions(c.d)
        const text = typeof c.d === 'string' ? c.d : this.slice(pre, pre + n)
        if (overhangs(text)) throw invalid('text op: the deleted text ends inside a surrogate pair')
        // A copy: a slice of a leaf is, in V8, a view that keeps the leaf's whole parent string
        // alive (after toString, the whole text) for as long as the undo op lives (a store's op log).
        append(out, typeof c.d === 'string' ? text : ownString(text))
        pre += n
      }
    }
    if (typeof out[out.length - 1] === 'number') out.pop()
    return out
  }

  insert(pos: number, text: string): void {
    if (text !== '') this.apply(pos === 0 ? [text] : [pos, text])
  }

  remove(pos: number, count: number): void {
    if (count !== 0) this.apply(pos === 0 ? [{ d: count }] : [pos, { d: count }])
  }

  /** Text between positions [start, end) (both clamped to [0, length]). */
  slice(start: number, end: number = this.n): string {
    start = Math.max(0, Math.min(start, this.n))
    end = Math.max(start, Math.min(end, this.n))
    if (start === end) return ''
    if (this.str !== undefined && start === 0 && end === this.n) return this.str
    this.seek(start, true)
    let g = this.cg
    let l = this.cl
    let p = start - this.clStart
    let left = end - start
    let out = ''
    for (;;) {
      const leaf = (this.groups[g] as Group).leaves[l] as Leaf
      const take = Math.min(left, leaf.n - p)
      out += p === 0 && take === leaf.n ? leaf.s : leaf.s.slice(this.unitOf(leaf, p), this.unitOf(leaf, p + take))
      left -= take
      if (left === 0) return out
      p = 0
      if (++l === (this.groups[g] as Group).leaves.length) {
        g++
        l = 0
      }
    }
  }

  /**
   * An independent copy, in O(length / 64K): the two share groups and leaves until either edits
   * one (copy on write), so a store can keep the value before an op while planning the one after.
   */
  clone(): TextRope {
    const r = new TextRope()
    r.groups = this.groups.slice()
    r.n = this.n
    r.str = this.str
    // Same layout, so the cursor and hint hold there too (leaves never change).
    r.cg = this.cg
    r.cgStart = this.cgStart
    r.cl = this.cl
    r.clStart = this.clStart
    r.hint(this.hLeaf, this.hPos, this.hUnit)
    // Neither rope owns the shared groups any more.
    this.gen = ++generations
    return r
  }

  /** Approximate heap bytes held (strings + node overhead), for memory accounting. */
  get heapBytes(): number {
    // V8: a string is ~16 bytes of header plus 1 or 2 bytes a unit; a leaf object ~40 bytes and an
    // array slot 8; a group ~60 bytes. Groups keep their count until changed: O(length / 64K).
    let bytes = 64
    for (const g of this.groups) {
      if (g.bytes < 0) {
        g.bytes = 60
        for (const l of g.leaves) g.bytes += 64 + l.s.length * (l.wide ? 2 : 1)
      }
      bytes += g.bytes
    }
    return bytes
  }

  private load(text: string): void {
    const leaves: Leaf[] = []
    if (text !== '') cut(text, flagsOf(text), MAX / 2, leaves)
    else leaves.push(leafOf('', 0, 0))
    this.groups = []
    groupsOf(leaves, this.gen, this.groups)
    this.n = 0
    for (const g of this.groups) this.n += g.n
    this.str = text
    this.resetCursor()
  }

  /** The unit offset of position `p` in a leaf (at most the leaf's length). */
  private unitOf(leaf: Leaf, p: number): number {
    if (!leaf.astral) return p
    const s = leaf.s
    let i = 0
    let q = 0
    if (leaf === this.hLeaf) {
      const u = this.hUnit
      if (p >= this.hPos) {
        i = u
        q = this.hPos
      } else if (p === this.hPos - 1 && u > 0 && (u === 1 || !isSurrogate(s.charCodeAt(u - 2)))) {
        // Unit u-1 starts a position: the unit before it cannot start a two-unit one.
        this.hPos = p
        return (this.hUnit = u - 1)
      }
    }
    for (; q < p && i < s.length; q++) i += isSurrogate(s.charCodeAt(i)) ? 2 : 1
    if (i > s.length) return s.length
    this.hint(leaf, q, i)
    return i
  }

  private hint(leaf: Leaf | undefined, pos: number, unit: number): void {
    this.hLeaf = leaf
    this.hPos = pos
    this.hUnit = unit
  }

  /** Group g, made this rope's own to change (copied when it may be shared). */
  private own(g: number): Group {
    const group = this.groups[g] as Group
    if (group.gen === this.gen) {
      group.bytes = -1
      group.text = undefined
      return group
    }
    const mine: Group = { leaves: group.leaves.slice(), n: group.n, gen: this.gen, bytes: -1 }
    this.groups[g] = mine
    return mine
  }

  private resetCursor(g = 0, gStart = 0): void {
    this.cg = g
    this.cgStart = gStart
    this.cl = 0
    this.clStart = gStart
  }

  /** Checks `op` against the text and returns its edits, left to right; throws `invalid` (changing nothing). */
  private plan(op: TextOp): Edit[] {
    checkTextOp(op)
    const edits: Edit[] = []
    let pre = 0
    let edit: Edit | undefined
    for (const c of op) {
      if (typeof c === 'number') {
        if (!Number.isSafeInteger(c)) throw invalid(`text op: a skip must be a whole number, not ${c}`)
        pre += c
        edit = undefined
        if (pre > this.n || (pre === this.n && this.endOverhangs())) throw invalid(`text op skips past the end of the text (${this.n} positions)`)
        continue
      }
      if (edit === undefined) edits.push((edit = { pos: pre, del: 0, ins: '' }))
      if (typeof c === 'string') edit.ins += c
      else {
        const n = typeof c.d === 'number' ? c.d : countPositions(c.d)
        if (!Number.isSafeInteger(n)) throw invalid(`text op: a delete count must be a whole number, not ${n}`)
        if (pre + n > this.n) throw invalid(`text op deletes past the end of the text (${this.n} positions)`)
        if (typeof c.d === 'string' && this.slice(pre, pre + n) !== c.d) throw invalid(`text op deletes ${JSON.stringify(c.d.length > 40 ? c.d.slice(0, 40) + '…' : c.d)} at ${pre}, but the text there differs`)
        edit.del += n
        pre += n
      }
    }
    return edits
  }

  private endOverhangs(): boolean {
    const g = this.groups[this.groups.length - 1] as Group
    const last = g.leaves[g.leaves.length - 1] as Leaf
    return last.astral && overhangs(last.s)
  }

  /**
   * Moves the cursor to a leaf holding position `pos`: start <= pos < end when `strict` (pos must
   * then be < length), else start <= pos <= end.
   */
  private seek(pos: number, strict: boolean): void {
    const groups = this.groups
    let g = this.cg
    let gs = this.cgStart
    let l = this.cl
    let ls = this.clStart
    let moved = false
    while (pos < gs && g > 0) {
      gs -= (groups[--g] as Group).n
      moved = true
    }
    for (;;) {
      const end = gs + (groups[g] as Group).n
      if (g === groups.length - 1 || (strict ? pos < end : pos <= end)) break
      gs = end
      g++
      moved = true
    }
    const leaves = (groups[g] as Group).leaves
    if (moved) {
      l = 0
      ls = gs
    }
    while (pos < ls && l > 0) ls -= (leaves[--l] as Leaf).n
    for (;;) {
      const end = ls + (leaves[l] as Leaf).n
      if (l === leaves.length - 1 || (strict ? pos < end : pos <= end)) break
      ls = end
      l++
    }
    this.cg = g
    this.cgStart = gs
    this.cl = l
    this.clStart = ls
  }

  private insertAt(pos: number, text: string): void {
    this.str = undefined
    this.seek(pos, false)
    const g = this.cg
    const l = this.cl
    const group = this.own(g)
    const old = group.leaves[l] as Leaf
    const off = this.unitOf(old, pos - this.clStart)
    const s = old.s
    const flags = flagsOf(text)
    const leaf: Leaf = {
      s: off === s.length ? s + text : off === 0 ? text + s : s.slice(0, off) + text + s.slice(off),
      n: old.n,
      astral: old.astral || (flags & F_ASTRAL) !== 0,
      wide: old.wide || (flags & F_WIDE) !== 0,
    }
    // An insert ending in a lone surrogate takes the unit after it into its position: count again.
    const delta = (flags & F_ASTRAL) === 0 ? text.length : countPositions(leaf.s) - old.n
    leaf.n += delta
    group.leaves[l] = leaf
    group.n += delta
    this.n += delta
    // After the insert is a position boundary, unless it ends in a lone surrogate.
    if ((flags & F_ASTRAL) === 0 || !overhangs(text)) this.hint(leaf, pos - this.clStart + delta, off + text.length)
    else this.hint(undefined, 0, 0)
    if ((flags & F_ASTRAL) !== 0 && overhangs(leaf.s)) this.fixOverhang(g, l)
    if (((this.groups[g] as Group).leaves[l] as Leaf).s.length > MAX) this.splitLeaf(g, l)
  }

  /** The leaf at (g, l) overhangs: moves units from the following leaves until no inner leaf does. */
  private fixOverhang(g: number, l: number): void {
    this.hint(undefined, 0, 0)
    for (;;) {
      const group = this.own(g)
      const leaf = group.leaves[l] as Leaf
      if (!overhangs(leaf.s)) break
      let g2 = g
      let l2 = l + 1
      if (l2 === group.leaves.length) {
        g2++
        l2 = 0
      }
      if (g2 === this.groups.length) break
      const group2 = this.own(g2)
      const next = group2.leaves[l2] as Leaf
      const unit = next.s.slice(0, 1)
      // The moved unit completes `leaf`'s last position; `next` is counted again from its new start.
      group.leaves[l] = { ...leaf, s: leaf.s + unit, wide: leaf.wide || flagsOf(unit) !== 0 }
      const rest = next.s.slice(1)
      const delta = (next.astral ? countPositions(rest) : next.n - 1) - next.n
      group2.leaves[l2] = { ...next, s: rest, n: next.n + delta }
      group2.n += delta
      this.n += delta
      if (rest === '') {
        this.removeLeaves(g2, l2, 1)
        break
      }
      g = g2
      l = l2
    }
    this.resetCursor()
  }

  private splitLeaf(g: number, l: number): void {
    const group = this.own(g)
    const leaf = group.leaves[l] as Leaf
    const pieces: Leaf[] = []
    cut(leaf.s, (leaf.astral ? F_ASTRAL : 0) | (leaf.wide ? F_WIDE : 0), leaf.s.length <= 2 * MAX ? Math.ceil(leaf.s.length / 2) : MAX / 2, pieces)
    group.leaves = pieces.length === 1 ? group.leaves : group.leaves.slice(0, l).concat(pieces, group.leaves.slice(l + 1))
    this.splitGroup(g)
  }

  /** Splits group g when it holds too many leaves; the cursor goes to the start of group g. */
  private splitGroup(g: number): void {
    const group = this.groups[g] as Group
    if (group.leaves.length > GROUP) {
      const parts: Group[] = []
      groupsOf(group.leaves, this.gen, parts)
      this.groups = this.groups.slice(0, g).concat(parts, this.groups.slice(g + 1))
    }
    // Group g still starts where it did.
    this.resetCursor(g, this.cg === g ? this.cgStart : this.startOf(g))
  }

  private startOf(g: number): number {
    let s = 0
    for (let i = 0; i < g; i++) s += (this.groups[i] as Group).n
    return s
  }

  private removeAt(pos: number, count: number): void {
    this.str = undefined
    this.seek(pos, true)
    const g = this.cg
    const cl = this.cl
    const group = this.own(g)
    const leaf = group.leaves[cl] as Leaf
    const p = pos - this.clStart
    if (p + count < leaf.n || (p + count === leaf.n && (p > 0 || (group.leaves.length === 1 && this.groups.length === 1)))) {
      // Within one leaf (the common case).
      const a = this.unitOf(leaf, p)
      const b = this.unitOf(leaf, p + count)
      const next: Leaf = { s: a === 0 ? leaf.s.slice(b) : leaf.s.slice(0, a) + leaf.s.slice(b), n: leaf.n - count, astral: leaf.astral, wide: leaf.wide }
      group.leaves[cl] = next
      group.n -= count
      this.n -= count
      this.hint(next, p, a)
      if (next.s.length < MIN) this.mergeSmall(g, cl)
      return
    }
    // Across leaves: trim the first, drop whole leaves, trim the last.
    let gi = g
    let li = cl
    let q = p
    let left = count
    while (left > 0) {
      const grp = this.own(gi)
      const lf = grp.leaves[li] as Leaf
      const take = Math.min(left, lf.n - q)
      const rest = q === 0 && take === lf.n ? '' : lf.s.slice(0, this.unitOf(lf, q)) + lf.s.slice(this.unitOf(lf, q + take))
      grp.leaves[li] = { ...lf, s: rest, n: lf.n - take }
      grp.n -= take
      this.n -= take
      left -= take
      q = 0
      if (++li === grp.leaves.length) {
        gi++
        li = 0
      }
    }
    this.hint(undefined, 0, 0)
    // Drop emptied leaves and groups (keeping one leaf), then merge what became small.
    for (let i = gi === this.groups.length || li === 0 ? gi - 1 : gi; i >= g; i--) {
      const grp = this.groups[i] as Group
      grp.leaves = grp.leaves.filter(x => x.s !== '')
      if (grp.leaves.length === 0) this.groups.splice(i, 1)
    }
    if (this.groups.length === 0) {
      this.load('')
      return
    }
    this.resetCursor()
    const at = Math.min(g, this.groups.length - 1)
    const grp = this.groups[at] as Group
    const li2 = at === g ? Math.min(cl, grp.leaves.length - 1) : 0
    this.mergeSmall(at, li2)
  }

  /** Merges the leaf at (g, l) with a neighbour if it is small, and group g with one if it is small. */
  private mergeSmall(g: number, l: number): void {
    const group = this.own(g)
    if ((group.leaves[l] as Leaf).s.length < MIN && group.leaves.length > 1) {
      const j = l + 1 < group.leaves.length ? l : l - 1
      const a = group.leaves[j] as Leaf
      const b = group.leaves[j + 1] as Leaf
      group.leaves.splice(j, 2, { s: a.s + b.s, n: a.n + b.n, astral: a.astral || b.astral, wide: a.wide || b.wide })
      if (a.s.length + b.s.length > MAX) this.splitLeaf(g, j)
    }
    const now = this.groups[g] as Group
    if (now.leaves.length < GROUP / 4 && this.groups.length > 1) {
      const j = g + 1 < this.groups.length ? g : g - 1
      const a = this.groups[j] as Group
      const b = this.groups[j + 1] as Group
      this.groups.splice(j, 2, { leaves: a.leaves.concat(b.leaves), n: a.n + b.n, gen: this.gen, bytes: -1 })
      this.resetCursor()
      this.splitGroup(j)
      this.resetCursor()
      return
    }
    this.resetCursor(g, this.cg === g ? this.cgStart : this.startOf(g))
  }

  /** Removes `count` leaves of group g from l (dropping the group if it empties). */
  private removeLeaves(g: number, l: number, count: number): void {
    const group = this.own(g)
    group.leaves.splice(l, count)
    if (group.leaves.length === 0) {
      if (this.groups.length === 1) group.leaves.push(leafOf('', 0, 0))
      else this.groups.splice(g, 1)
    }
  }
}

export const isTextRope = (v: unknown): v is TextRope => v instanceof TextRope

/**
 * The rope's text as a balanced concatenation of its leaves, which V8 keeps as cons strings:
 * nothing is copied until the string is read (then V8 flattens it, and it takes as much memory
 * again as the leaves). Cached as the rope's string. For code that hands out strings from ropes
 * it keeps only briefly (core's text ops on plain strings); `toString` suits a rope kept long.
 */
export const lazyString = (r: TextRope): string => concatLeaves(r)

function concat(parts: string[], lo: number, hi: number): string {
  if (hi - lo === 0) return ''
  if (hi - lo === 1) return parts[lo] as string
  const mid = (lo + hi) >>> 1
  return concat(parts, lo, mid) + concat(parts, mid, hi)
}
