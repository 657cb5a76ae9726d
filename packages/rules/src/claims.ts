// Who a connection is, as the rules see it: the claims from `authenticate`, an anonymous visitor,
// or the holder of a capability token; and the context `withRules` checks every call against.
import type { Key } from '@statecraft/core'
import type { PatternSet } from './pattern.ts'

/** One link of a token's chain: each can only narrow what the ones before it grant. */
export interface Caveat {
  /** Keys readable under this caveat (undefined = this caveat does not restrict reads). */
  read: PatternSet | undefined
  write: PatternSet | undefined
  /** Expiry, in ms since the epoch (undefined = this caveat sets none). */
  exp: number | undefined
}

export type Right = 'read' | 'write'

/**
 * The claims of a connection that presented a valid capability token. Made only by `verifyToken`
 * (and so by `tokenAuthenticator`): an object identity the client cannot forge.
 */
export class CapabilityClaims {
  /** The earliest expiry of any caveat, in ms since the epoch. */
  readonly exp: number | undefined

  constructor(
    /** The token's id (from its first caveat), for logs and revocation lists. */
    readonly id: string,
    readonly caveats: readonly Caveat[],
  ) {
    let exp: number | undefined
    for (const c of caveats) if (c.exp !== undefined && (exp === undefined || c.exp < exp)) exp = c.exp
    this.exp = exp
  }

  /** True when every caveat grants `right` on `key`. */
  allows(right: Right, key: Key): boolean {
    return this.caveats.every(c => {
      const set = right === 'read' ? c.read : c.write
      return set === undefined || set.matches(key)
    })
  }

  expired(now = Date.now()): boolean {
    return this.exp !== undefined && now >= this.exp
  }
}

/** The claims of a visitor with no identity. Return it from an `authenticate` to let one in. */
export interface Anonymous {
  readonly anonymous: true
}

/** Let a connection in with no identity: the rules see `auth: null`. */
export const anonymous: Anonymous = Object.freeze({ anonymous: true as const })

/** What `withRules` checks each call against. */
export interface RulesContext<C> {
  /** The connection's claims; null for an anonymous visitor (and for a token holder). */
  auth: C | null
  /** Server-side code and admin tools: every read and write is allowed (schemas still apply). */
  admin?: boolean
  /** A capability token's grant: when set it decides alone, the rules' read and write are not asked. */
  capability?: CapabilityClaims
}

/** What the server hands the rules: its `authenticate`'s claims (undefined when it has none). */
export type ConnectionClaims<C> = C | CapabilityClaims | Anonymous | null | undefined

/** The context for a connection's claims: a token's grant, an anonymous visitor, or a user. */
export function rulesContext<C>(claims: ConnectionClaims<C>, isAdmin?: (auth: C) => boolean): RulesContext<C> {
  if (claims instanceof CapabilityClaims) return { auth: null, capability: claims }
  if (claims === undefined || claims === null || claims === anonymous) return { auth: null }
  const auth = claims as C
  return isAdmin?.(auth) === true ? { auth, admin: true } : { auth }
}
