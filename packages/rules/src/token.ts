// Capability tokens: bearer tokens that grant read and write on key patterns until an expiry,
// signed with HMAC-SHA-256 through WebCrypto (browsers and Node alike). A token is a chain of
// caveats, macaroon-style: the first is signed with the server's secret, each later one with the
// signature before it. Anyone holding a token can append a caveat (narrowToken), but no one can
// remove one without the secret, and a caveat can only restrict: a key is granted only when every
// caveat grants it, and the earliest expiry wins.
//
//   sc1.<caveat 0>.<caveat 1>…<caveat n>.<signature>          (each part base64url, no padding)
//   caveat 0 = {"v":1,"id":"…","read":[…],"write":[…],"exp":ms}   later = {"read"?,"write"?,"exp"?}
//   sig0 = HMAC(secret, "statecraft capability token v1\n" + part0);  sig i = HMAC(sig i-1, part i)
import { StatecraftError, randomId } from '@statecraft/core'
import { z } from 'zod'
import { fromBase64url, toBase64url } from './base64url.ts'
import { CapabilityClaims, type Anonymous, type Caveat } from './claims.ts'
import { PatternSet, parsePattern } from './pattern.ts'

/** The server's signing secret: at least 16 bytes (a string is taken as UTF-8), or an HMAC-SHA-256 CryptoKey. */
export type TokenSecret = string | Uint8Array | CryptoKey

/** What a new token grants. Patterns are the rules' patterns (`{param}`, `*`, `**`). */
export interface TokenGrant {
  read: string[]
  write: string[]
  /** When it stops working: ms since the epoch, or a Date. */
  exp: number | Date
}

/** A narrower token: each field given restricts further; a field left out restricts nothing more. */
export interface TokenNarrowing {
  read?: string[]
  write?: string[]
  exp?: number | Date
}

const PREFIX = 'sc1'
const ROOT_CONTEXT = 'statecraft capability token v1\n'
const MAX_TOKEN_CHARS = 16_384
const MAX_CAVEATS = 32
const MAX_PATTERNS = 256

const patterns = z.array(z.string().max(1024)).max(MAX_PATTERNS)
const rootSchema = z.strictObject({ v: z.literal(1), id: z.string().min(1).max(128), read: patterns, write: patterns, exp: z.number() })
const caveatSchema = z.strictObject({ read: patterns.optional(), write: patterns.optional(), exp: z.number().optional() })

const utf8 = new TextEncoder()
const HMAC = { name: 'HMAC', hash: 'SHA-256' } as const

const unauthorized = (why: string): StatecraftError => new StatecraftError('unauthorized', why)

const subtle = (): SubtleCrypto => {
  const s = (globalThis as { crypto?: { subtle?: SubtleCrypto } }).crypto?.subtle
  if (s === undefined) throw new StatecraftError('unsupported', 'capability tokens need WebCrypto (crypto.subtle)')
  return s
}

const importMac = (bytes: Uint8Array): Promise<CryptoKey> => subtle().importKey('raw', bytes as Uint8Array<ArrayBuffer>, HMAC, false, ['sign', 'verify'])

const sign = async (key: CryptoKey, text: string): Promise<Uint8Array> => new Uint8Array(await subtle().sign('HMAC', key, utf8.encode(text)))

const secretKeys = new Map<string, Promise<CryptoKey>>()

/** Throws `invalid` for a secret that cannot sign (a missing environment variable, a short string). */
function checkSecret(secret: unknown): asserts secret is TokenSecret {
  if (typeof secret === 'string' || secret instanceof Uint8Array) {
    const n = typeof secret === 'string' ? utf8.encode(secret).length : secret.length
    if (n < 16) throw new StatecraftError('invalid', 'a token secret must be at least 16 bytes (use 32 random bytes)')
    return
  }
  if (typeof secret !== 'object' || secret === null || (secret as { type?: unknown }).type !== 'secret') {
    throw new StatecraftError('invalid', `a token secret is a string, bytes or an HMAC CryptoKey, not ${secret === null ? 'null' : typeof secret}`)
  }
}

async function secretKey(secret: TokenSecret): Promise<CryptoKey> {
  checkSecret(secret)
  if (typeof secret !== 'string' && !(secret instanceof Uint8Array)) return secret
  const bytes = typeof secret === 'string' ? utf8.encode(secret) : secret
  if (typeof secret !== 'string') return importMac(bytes)
  let k = secretKeys.get(secret)
  if (k === undefined) {
    if (secretKeys.size >= 16) secretKeys.clear()
    secretKeys.set(secret, (k = importMac(bytes)))
  }
  return k
}

function expiry(exp: number | Date, where: string): number {
  const ms = exp instanceof Date ? exp.getTime() : exp
  if (typeof ms !== 'number' || !Number.isFinite(ms)) throw new StatecraftError('invalid', `${where}.exp must be a time (ms since the epoch, or a Date)`)
  return ms
}

function checkPatterns(list: unknown, where: string): string[] {
  if (!Array.isArray(list) || list.some(p => typeof p !== 'string')) throw new StatecraftError('invalid', `${where} must be an array of key patterns`)
  if (list.length > MAX_PATTERNS) throw new StatecraftError('invalid', `${where} has over ${MAX_PATTERNS} patterns`)
  for (const p of list as string[]) parsePattern(p)
  return list as string[]
}

const encodePart = (o: object): string => toBase64url(utf8.encode(JSON.stringify(o)))

/** Splits a token into its caveat parts and signature, checking only the shape. */
function split(token: string): { parts: string[]; sig: Uint8Array } | undefined {
  if (typeof token !== 'string' || token.length > MAX_TOKEN_CHARS) return undefined
  const all = token.split('.')
  if (all[0] !== PREFIX || all.length < 3 || all.length > MAX_CAVEATS + 2) return undefined
  const parts = all.slice(1, -1)
  const sig = fromBase64url(all[all.length - 1] as string)
  if (sig === undefined || sig.length !== 32 || parts.some(p => p === '' || fromBase64url(p) === undefined)) return undefined
  return { parts, sig }
}

/** True when `token` looks like a capability token (it may still be forged or expired). */
export const isCapabilityToken = (token: string): boolean => token.startsWith(`${PREFIX}.`)

/** A new token granting `read` and `write` on the patterns given until `exp`, signed with `secret`. */
export async function issueToken(grant: TokenGrant, secret: TokenSecret): Promise<string> {
  const root = {
    v: 1,
    id: randomId(),
    read: checkPatterns(grant.read, 'read'),
    write: checkPatterns(grant.write, 'write'),
    exp: expiry(grant.exp, 'grant'),
  }
  const part = encodePart(root)
  const sig = await sign(await secretKey(secret), ROOT_CONTEXT + part)
  return `${PREFIX}.${part}.${toBase64url(sig)}`
}

/**
 * A token that grants at most what `token` grants, and only what `narrowing` also allows. Needs no
 * secret, and cannot widen: the server checks every caveat in the chain.
 */
export async function narrowToken(token: string, narrowing: TokenNarrowing): Promise<string> {
  const t = split(token)
  if (t === undefined) throw new StatecraftError('invalid', 'not a capability token')
  if (t.parts.length >= MAX_CAVEATS) throw new StatecraftError('invalid', `a token holds at most ${MAX_CAVEATS} caveats`)
  const caveat: { read?: string[]; write?: string[]; exp?: number } = {}
  if (narrowing.read !== undefined) caveat.read = checkPatterns(narrowing.read, 'read')
  if (narrowing.write !== undefined) caveat.write = checkPatterns(narrowing.write, 'write')
  if (narrowing.exp !== undefined) caveat.exp = expiry(narrowing.exp, 'narrowing')
  if (Object.keys(caveat).length === 0) throw new StatecraftError('invalid', 'a narrowing needs read, write or exp')
  const part = encodePart(caveat)
  const sig = await sign(await importMac(t.sig), part)
  return `${PREFIX}.${[...t.parts, part].join('.')}.${toBase64url(sig)}`
}

/** The claims of a valid token; throws `unauthorized` for a malformed, tampered or expired one. */
export async function verifyToken(token: string, secret: TokenSecret, now = Date.now()): Promise<CapabilityClaims> {
  const t = split(token)
  if (t === undefined) throw unauthorized('the token is malformed')
  let key = await secretKey(secret)
  let ok = false
  for (let i = 0; i < t.parts.length; i++) {
    const text = (i === 0 ? ROOT_CONTEXT : '') + (t.parts[i] as string)
    if (i === t.parts.length - 1) ok = await subtle().verify('HMAC', key, t.sig as Uint8Array<ArrayBuffer>, utf8.encode(text))
    else key = await importMac(await sign(key, text))
  }
  if (!ok) throw unauthorized('the token was tampered with, or signed with another secret')
  // Only signed parts are parsed.
  const caveats: Caveat[] = []
  let id = ''
  for (const [i, part] of t.parts.entries()) {
    let json: unknown
    try {
      json = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(fromBase64url(part)))
    } catch {
      throw unauthorized('the token is malformed')
    }
    let c: z.infer<typeof caveatSchema>
    if (i === 0) {
      const root = rootSchema.safeParse(json)
      if (!root.success) throw unauthorized('the token is malformed (or from a newer version)')
      id = root.data.id
      c = { read: root.data.read, write: root.data.write, exp: root.data.exp }
    } else {
      const later = caveatSchema.safeParse(json)
      if (!later.success) throw unauthorized('the token is malformed (or from a newer version)')
      c = later.data
    }
    try {
      caveats.push({
        read: c.read === undefined ? undefined : new PatternSet(c.read),
        write: c.write === undefined ? undefined : new PatternSet(c.write),
        exp: c.exp,
      })
    } catch {
      throw unauthorized('the token is malformed (a bad key pattern)')
    }
  }
  const claims = new CapabilityClaims(id, caveats)
  if (claims.expired(now)) throw unauthorized('the token has expired')
  return claims
}

/**
 * An `authenticate` for the server: a capability token becomes its grant; a bad one is refused
 * with `unauthorized` (never handed to `fallback`). Anything else, or no token, goes to `fallback`
 * (your own sign-in; return `anonymous` to let a visitor in), or is refused when there is none.
 */
export function tokenAuthenticator<C>(
  secret: TokenSecret,
  fallback?: (token: string | undefined) => C | Anonymous | null | Promise<C | Anonymous | null>,
): (token: string | undefined) => Promise<C | CapabilityClaims | Anonymous | null> {
  checkSecret(secret)
  return async token => {
    if (token !== undefined && isCapabilityToken(token)) return verifyToken(token, secret)
    if (fallback === undefined) throw unauthorized(token === undefined ? 'this server needs a token' : 'not a capability token')
    return fallback(token)
  }
}
