// Key patterns: `/`-separated segments, each a literal, a `{param}` (one segment), `*` (one segment,
// unnamed) or, last, a `**` / `{name=**}` tail (one or more segments). Parsing, matching, and the
// order "most specific first" that decides which rule applies to a key.
import { StatecraftError, type Key } from '@statecraft/core'

export type Segment =
  | { kind: 'literal'; text: string }
  | { kind: 'param'; name: string | undefined }
  | { kind: 'rest'; name: string | undefined }

export interface Pattern {
  readonly source: string
  readonly segments: readonly Segment[]
}

/** What a matched pattern captured: `{uid}` → `params.uid`; a `{path=**}` tail → the rest joined by `/`. */
export type Params = Record<string, string>

const NAME = /^[A-Za-z_$][A-Za-z0-9_$]*$/

const bad = (source: string, why: string): StatecraftError =>
  new StatecraftError('invalid', `bad key pattern ${JSON.stringify(source)}: ${why}`)

/** Parses a pattern; throws `invalid` naming what is wrong. */
export function parsePattern(source: string): Pattern {
  if (typeof source !== 'string') throw new StatecraftError('invalid', `a key pattern must be a string, got ${typeof source}`)
  const parts = source.split('/')
  const segments: Segment[] = []
  const names = new Set<string>()
  parts.forEach((part, i) => {
    const last = i === parts.length - 1
    let seg: Segment
    if (part === '**') seg = { kind: 'rest', name: undefined }
    else if (part === '*') seg = { kind: 'param', name: undefined }
    else if (part.startsWith('{') && part.endsWith('}')) {
      const inner = part.slice(1, -1)
      const rest = inner.endsWith('=**')
      const name = rest ? inner.slice(0, -3) : inner
      if (!NAME.test(name)) throw bad(source, `${JSON.stringify(part)} must be {name} or {name=**}, with name an identifier`)
      if (names.has(name)) throw bad(source, `the parameter ${name} appears twice`)
      names.add(name)
      seg = rest ? { kind: 'rest', name } : { kind: 'param', name }
    } else {
      if (/[{}*]/.test(part)) throw bad(source, `the segment ${JSON.stringify(part)} mixes text with {, } or *`)
      seg = { kind: 'literal', text: part }
    }
    if (seg.kind === 'rest' && !last) throw bad(source, '** (or {name=**}) may only be the last segment')
    segments.push(seg)
  })
  return { source, segments }
}

/** The params of `key` when `p` matches it, else undefined. `{param}` and `*` match one non-empty segment. */
export function matchPattern(p: Pattern, key: Key, parts: readonly string[] = key.split('/')): Params | undefined {
  const segs = p.segments
  const params: Params = {}
  for (let i = 0; i < segs.length; i++) {
    const seg = segs[i] as Segment
    if (seg.kind === 'rest') {
      if (parts.length <= i) return undefined
      if (seg.name !== undefined) params[seg.name] = parts.slice(i).join('/')
      return params
    }
    const part = parts[i]
    if (part === undefined) return undefined
    if (seg.kind === 'literal') {
      if (part !== seg.text) return undefined
    } else {
      if (part === '') return undefined
      if (seg.name !== undefined) params[seg.name] = part
    }
  }
  return parts.length === segs.length ? params : undefined
}

const rank = (s: Segment): number => (s.kind === 'literal' ? 2 : s.kind === 'param' ? 1 : 0)

/**
 * Orders patterns most specific first: compared segment by segment from the left, at the first
 * position where they differ a literal beats a parameter, which beats a `**` tail. Two patterns
 * that can match one key always differ somewhere in that sequence, unless they are the same shape.
 */
export function compareSpecificity(a: Pattern, b: Pattern): number {
  const n = Math.max(a.segments.length, b.segments.length)
  for (let i = 0; i < n; i++) {
    const x = a.segments[i]
    const y = b.segments[i]
    if (x === undefined || y === undefined) return x === undefined ? 1 : -1
    const d = rank(y) - rank(x)
    if (d !== 0) return d
  }
  return 0
}

/** The pattern with parameter names erased: two patterns with the same shape match the same keys. */
export const shapeOf = (p: Pattern): string =>
  p.segments.map(s => (s.kind === 'literal' ? `=${s.text}` : s.kind === 'param' ? '{}' : '**')).join('\u0000')

/** A table of patterns to values, answering "which entry is most specific for this key". */
export class PatternTable<T> {
  private readonly entries: { pattern: Pattern; value: T }[]

  constructor(table: Record<string, T>, what = 'pattern') {
    const shapes = new Map<string, string>()
    this.entries = Object.entries(table).map(([source, value]) => {
      const pattern = parsePattern(source)
      const shape = shapeOf(pattern)
      const other = shapes.get(shape)
      if (other !== undefined) {
        throw new StatecraftError('invalid', `the ${what}s ${JSON.stringify(other)} and ${JSON.stringify(source)} match the same keys; keep one`)
      }
      shapes.set(shape, source)
      return { pattern, value }
    })
    this.entries.sort((a, b) => compareSpecificity(a.pattern, b.pattern))
  }

  get patterns(): string[] {
    return this.entries.map(e => e.pattern.source)
  }

  /** The most specific entry matching `key`, with its params. */
  match(key: Key): { pattern: string; params: Params; value: T } | undefined {
    const parts = key.split('/')
    for (const e of this.entries) {
      const params = matchPattern(e.pattern, key, parts)
      if (params !== undefined) return { pattern: e.pattern.source, params, value: e.value }
    }
    return undefined
  }
}

/** A list of patterns where any one matching is enough (a token's grant). */
export class PatternSet {
  private readonly patterns: Pattern[]

  constructor(readonly sources: readonly string[]) {
    this.patterns = sources.map(parsePattern)
  }

  matches(key: Key): boolean {
    const parts = key.split('/')
    return this.patterns.some(p => matchPattern(p, key, parts) !== undefined)
  }
}
