// The OT type registry and the rules for applying, transforming and composing ops on values.
// json1 (ot-json1) and text (ot-text-unicode) are registered here; more can be added.
import { type as json1Type } from 'ot-json1'
import { type as textType } from 'ot-text-unicode'
import { StatecraftError } from './errors.ts'
import { checkValue, isBinary, ownValue, shareValue, whereOf, type Where } from './values.ts'
import { applyText, invertText } from './text-rope.ts'
import { TextRope, isTextRope } from './rope.ts'
import type { Json, Op, OTOp, OTTypeName, Value } from './types.ts'

export interface OTType<Snap, O> {
  name: string
  /** The value an op applies to when the key is absent. */
  create(): Snap | undefined
  /** Throws when `v` is not a snapshot this type edits. */
  checkSnapshot(v: Value | undefined): void
  apply(snapshot: Snap | undefined, op: O): Snap | undefined
  transform(op: O, other: O, side: 'left' | 'right'): O
  compose(a: O, b: O): O
  /** Throws on a malformed op. */
  checkOp(op: unknown): void
  isNoop?(op: O): boolean
  /** The op that undoes `op`, given the snapshot `op` was applied to. */
  invertWithDoc(op: O, snapshot: Snap | undefined): O
}

// The registry is typed loosely inside; `otTypeFor` narrows it by name.
const registry = new Map<string, OTType<unknown, unknown>>()

export function registerOTType<S, O>(t: OTType<S, O>): void {
  registry.set(t.name, t as unknown as OTType<unknown, unknown>)
}

export function otTypeFor(name: string): OTType<unknown, unknown> {
  const t = registry.get(name)
  if (t === undefined) throw new StatecraftError('unsupported', `no OT type named ${JSON.stringify(name)} is registered`)
  return t
}

export const isOTOp = (op: Op): op is OTOp => op.type !== 'set' && op.type !== 'del'

const invalid = (what: string, e: unknown): StatecraftError =>
  new StatecraftError('invalid', `${what}: ${e instanceof Error ? e.message : String(e)}`)

registerOTType<Json, OTOp['op']>({
  name: 'json1',
  create: () => undefined,
  checkSnapshot(v) {
    if (isBinary(v)) throw new StatecraftError('invalid', 'a json1 op cannot edit a binary value')
  },
  apply(snap, op) {
    const out = json1Type.apply(snap as never, op as never)
    return out as Json | undefined
  },
  // transformNoConflict: concurrent edits that json1 calls conflicting (two inserts at one key, an
  // edit inside a removed subtree) resolve the same way on every replica (by side) instead of
  // throwing — a store must merge concurrent OT edits, never fail them as `internal`.
  transform: (a, b, side) => json1Type.transformNoConflict(a as never, b as never, side) as OTOp['op'],
  compose: (a, b) => json1Type.compose(a as never, b as never) as OTOp['op'],
  checkOp(op) {
    json1Type.checkValidOp(op as never)
  },
  isNoop: op => json1Type.isNoop(op as never),
  invertWithDoc: (op, snap) => json1Type.invertWithDoc(op as never, snap as never) as OTOp['op'],
})

// A text snapshot is a string or, in a store's memory, a TextRope: a rope is never changed, the
// result is a copy on write of it (sharing all but the edited part).
registerOTType<string | TextRope, OTOp['op']>({
  name: 'text',
  create: () => '',
  checkSnapshot(v) {
    if (v !== undefined && typeof v !== 'string' && !isTextRope(v)) throw new StatecraftError('invalid', 'a text op edits a string value, not ' + (isBinary(v) ? 'binary' : typeof v))
  },
  apply(snap, op) {
    if (!isTextRope(snap)) return applyText(snap ?? '', op as never)
    const next = snap.clone()
    next.apply(op as never)
    return next
  },
  transform: (a, b, side) => textType.transform(a as never, b as never, side) as OTOp['op'],
  compose: (a, b) => textType.compose(a as never, b as never) as OTOp['op'],
  checkOp(op) {
    if (!Array.isArray(op)) throw new Error('a text op is an array')
    textType.checkOp(op as never)
  },
  isNoop: op => (op as unknown[]).length === 0,
  invertWithDoc: (op, snap) => (isTextRope(snap) ? snap.invert(op as never) : invertText(op as never, snap ?? '')) as OTOp['op'],
})

/** Throws `invalid` unless `op` is a well-formed op of a registered type. */
export function checkOp(op: unknown, where: Where = 'op'): asserts op is Op {
  if (typeof op !== 'object' || op === null) throw new StatecraftError('invalid', `${whereOf(where)} must be an object with a type`)
  const o = op as { type?: unknown; value?: unknown; op?: unknown }
  if (o.type === 'set') {
    if (!('value' in o)) throw new StatecraftError('invalid', `${whereOf(where)} is a set with no value`)
    checkValue(o.value, () => `${whereOf(where)}.value`)
  } else if (o.type === 'del') {
    // nothing to check
  } else if (typeof o.type === 'string') {
    const t: OTType<unknown, unknown> = otTypeFor(o.type)
    try {
      t.checkOp(o.op)
    } catch (e) {
      throw invalid(`${whereOf(where)} is not a valid ${o.type} op`, e)
    }
  } else {
    throw new StatecraftError('invalid', `${whereOf(where)}.type must be a string (set, del or an OT type name)`)
  }
}

/**
 * Applies an op to a value (undefined = absent) and returns the new value in the store's own
 * form (frozen JSON, private binary). Throws `invalid` when the op does not fit the value.
 *
 * A store may hold a text doc as a TextRope (see `docValue`) and pass it here typed as a Value:
 * a text op then returns a new TextRope (the given one is not changed), any other op sees its string.
 */
export function applyOp(value: Value | undefined, op: Op, key = 'key'): Value | undefined {
  switch (op.type) {
    case 'set':
      return ownValue(op.value)
    case 'del':
      return undefined
    default: {
      const t: OTType<unknown, unknown> = otTypeFor(op.type)
      if (op.type !== 'text' && isTextRope(value)) value = value.toString()
      try {
        t.checkSnapshot(value)
        const out = t.apply(value ?? t.create(), op.op) as Value | undefined
        return out === undefined ? undefined : isTextRope(out) ? out : ownValue(out)
      } catch (e) {
        throw e instanceof StatecraftError ? new StatecraftError(e.code, `${key}: ${e.message}`) : invalid(`${op.type} op does not apply to ${key}`, e)
      }
    }
  }
}

/**
 * Transforms `op` (not yet applied) over `other` (already applied to the same base). Returns
 * undefined when they cannot be merged: a set or del on either side, or different OT types.
 * `side: 'left'` puts `op`'s inserts first where both insert at one place.
 */
export function transformOp(op: Op, other: Op, side: 'left' | 'right'): Op | undefined {
  if (!isOTOp(op) || !isOTOp(other) || op.type !== other.type) return undefined
  const t = otTypeFor(op.type)
  return { type: op.type, op: t.transform(op.op, other.op, side) } as OTOp
}

/** Composes two ops on one key (b after a), or undefined when the type cannot. */
export function composeOps(a: Op, b: Op): Op | undefined {
  if (b.type === 'set' || b.type === 'del') return b
  if (a.type === 'set' || a.type === 'del') {
    const v = applyOp(a.type === 'set' ? a.value : undefined, b)
    return v === undefined ? { type: 'del' } : { type: 'set', value: v }
  }
  if (!isOTOp(a) || a.type !== b.type) return undefined
  return { type: a.type, op: otTypeFor(a.type).compose(a.op, b.op) } as OTOp
}

/**
 * The op that takes the value after `op` back to `before` (used to read the past). Set and del
 * undo by restoring the old value; OT ops by their inverse.
 */
export function undoOp(before: Value | undefined, op: Op): Op {
  // A TextRope (a store's text doc) is inverted in place by a text op, otherwise it is its string.
  if (isTextRope(before) && op.type !== 'text') before = before.toString()
  if (isOTOp(op) && before !== undefined) {
    const t = otTypeFor(op.type)
    return { type: op.type, op: t.invertWithDoc(op.op, before) } as OTOp
  }
  return before === undefined ? { type: 'del' } : { type: 'set', value: before }
}

export const otTypeNames = (): OTTypeName[] => [...registry.keys()] as OTTypeName[]

/**
 * A store's in-memory form of a doc it is about to apply `op` to: a string edited by a text op
 * becomes a TextRope (then kept as one, so each later text op costs O(log n + op), not O(n));
 * anything else is returned as is. Ropes stand where planTxn and applyOp take a Value; hand them
 * out through `readValue`.
 */
export function docValue(v: Value | undefined, op: Op | undefined): Value | undefined {
  return typeof v === 'string' && op?.type === 'text' ? (new TextRope(v) as unknown as Value) : v
}

/** A doc value as a reader gets it (shareValue, with a TextRope as its string). */
export const readValue = (v: Value): Value => (isTextRope(v) ? v.toString() : shareValue(v))

