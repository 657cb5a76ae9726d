// Capability tokens: issue, verify, narrow without the secret, and never widen; tampering,
// truncation, another secret and expiry are all `unauthorized`.
import { expect, test } from 'vitest'
import { StatecraftError } from '@statecraft/core'
import { CapabilityClaims, anonymous, issueToken, narrowToken, tokenAuthenticator, verifyToken } from '@statecraft/rules'

const secret = 'a test secret of enough bytes, 0123456789'
const hour = (): number => Date.now() + 3_600_000

async function code(p: Promise<unknown>): Promise<string> {
  try {
    await p
  } catch (e) {
    return e instanceof StatecraftError ? e.code : `not a StatecraftError: ${String(e)}`
  }
  return 'ok'
}

test('a token grants exactly its patterns', async () => {
  const t = await issueToken({ read: ['todos/ann/**', 'notes/{id}'], write: ['todos/ann/**'], exp: hour() }, secret)
  expect(t.startsWith('sc1.')).toBe(true)
  const c = await verifyToken(t, secret)
  expect(c).toBeInstanceOf(CapabilityClaims)
  expect(c.allows('read', 'todos/ann/1')).toBe(true)
  expect(c.allows('read', 'notes/x')).toBe(true)
  expect(c.allows('read', 'notes/x/y')).toBe(false)
  expect(c.allows('read', 'todos/bob/1')).toBe(false)
  expect(c.allows('write', 'todos/ann/1')).toBe(true)
  expect(c.allows('write', 'notes/x')).toBe(false)
  expect(c.id).not.toBe('')
})

test('narrowing needs no secret and only ever restricts', async () => {
  const root = await issueToken({ read: ['todos/ann/**', 'notes/**'], write: ['todos/ann/**'], exp: hour() }, secret)
  const narrow = await narrowToken(root, { read: ['todos/ann/**'], write: [] })
  const n = await verifyToken(narrow, secret)
  expect(n.allows('read', 'todos/ann/1')).toBe(true)
  expect(n.allows('read', 'notes/a')).toBe(false)
  expect(n.allows('write', 'todos/ann/1')).toBe(false)
  // A caveat naming more than the token has still grants only the intersection.
  const wider = await narrowToken(narrow, { read: ['**'], write: ['**'] })
  const w = await verifyToken(wider, secret)
  expect(w.allows('read', 'notes/a')).toBe(false)
  expect(w.allows('write', 'todos/ann/1')).toBe(false)
  expect(w.allows('read', 'todos/bob/1')).toBe(false)
  // Narrowing only the expiry keeps the patterns.
  const soon = await narrowToken(root, { exp: Date.now() + 50 })
  expect((await verifyToken(soon, secret)).allows('read', 'notes/a')).toBe(true)
  await new Promise(r => setTimeout(r, 60))
  expect(await code(verifyToken(soon, secret))).toBe('unauthorized')
  // A later caveat cannot push the expiry out.
  const short = await issueToken({ read: ['**'], write: [], exp: Date.now() - 1 }, secret)
  expect(await code(verifyToken(await narrowToken(short, { exp: hour() }), secret))).toBe('unauthorized')
})

test('tampered, truncated, re-signed and expired tokens are unauthorized', async () => {
  const root = await issueToken({ read: ['todos/ann/**'], write: [], exp: hour() }, secret)
  const narrow = await narrowToken(root, { read: ['todos/ann/1'] })
  const parts = narrow.split('.')
  // Drop the narrowing caveat but keep its signature: the chain no longer adds up.
  const dropped = [parts[0], parts[1], parts[3]].join('.')
  // Drop the caveat and its signature, and present the root's: that is just the root token, which is fine.
  expect(await code(verifyToken(root, secret))).toBe('ok')
  // Change the grant in the first caveat.
  const forged = JSON.parse(atob((parts[1] as string).replaceAll('-', '+').replaceAll('_', '/'))) as { read: string[] }
  forged.read = ['**']
  const forgedPart = btoa(JSON.stringify(forged)).replaceAll('+', '-').replaceAll('/', '_').replace(/=+$/, '')
  const widened = [parts[0], forgedPart, parts[2], parts[3]].join('.')
  // Flip one character of the signature.
  const sig = parts[3] as string
  const flipped = [parts[0], parts[1], parts[2], (sig[0] === 'A' ? 'B' : 'A') + sig.slice(1)].join('.')
  for (const [what, t] of [
    ['a dropped caveat', dropped],
    ['a widened grant', widened],
    ['a flipped signature', flipped],
    ['garbage', 'sc1.garbage'],
    ['an empty part', 'sc1..x'],
    ['another version', narrow.replace('sc1.', 'sc9.')],
  ] as const) {
    expect(await code(verifyToken(t, secret)), what).toBe('unauthorized')
  }
  expect(await code(verifyToken(root, 'another secret of enough bytes!!'))).toBe('unauthorized')
  const expired = await issueToken({ read: ['**'], write: [], exp: Date.now() - 1000 }, secret)
  expect(await code(verifyToken(expired, secret))).toBe('unauthorized')
})

test('bad grants and short secrets are refused when issuing', async () => {
  expect(await code(issueToken({ read: ['a/**/b'], write: [], exp: hour() }, secret))).toBe('invalid')
  expect(await code(issueToken({ read: [], write: [], exp: Number.NaN }, secret))).toBe('invalid')
  expect(await code(issueToken({ read: [], write: [], exp: hour() }, 'short'))).toBe('invalid')
  expect(await code(narrowToken('not a token', { read: [] }))).toBe('invalid')
  // A missing environment variable fails at startup, not at the first sign-in.
  expect(() => tokenAuthenticator(undefined as unknown as string)).toThrow(/token secret/)
  expect(() => tokenAuthenticator('too short')).toThrow(/at least 16 bytes/)
  const t = await issueToken({ read: [], write: [], exp: new Date(hour()) }, secret)
  expect(await code(narrowToken(t, {}))).toBe('invalid')
})

test('tokenAuthenticator: tokens become grants, bad tokens never reach the fallback', async () => {
  const seen: (string | undefined)[] = []
  const auth = tokenAuthenticator<{ uid: string }>(secret, t => {
    seen.push(t)
    return t === undefined ? anonymous : t === 'ann' ? { uid: 'ann' } : null
  })
  const t = await issueToken({ read: ['a'], write: [], exp: hour() }, secret)
  expect(await auth(t)).toBeInstanceOf(CapabilityClaims)
  expect(await auth('ann')).toEqual({ uid: 'ann' })
  expect(await auth(undefined)).toBe(anonymous)
  expect(await auth('mallory')).toBeNull()
  expect(await code(auth(t.slice(0, -2) + 'xx'))).toBe('unauthorized')
  expect(seen).toEqual(['ann', undefined, 'mallory'])
  const strict = tokenAuthenticator(secret)
  expect(await code(strict(undefined))).toBe('unauthorized')
  expect(await code(strict('ann'))).toBe('unauthorized')
})
