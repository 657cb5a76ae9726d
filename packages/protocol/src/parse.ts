// Decoding and validating frames: a frame in, a typed message or a `protocol` error out. Never throws.
import * as z from 'zod'
import { StatecraftError } from '@statecraft/core'
import { clientMessageSchema, type ClientMessage } from './client-messages.ts'
import { serverMessageSchema, type ServerMessage } from './server-messages.ts'
import { codecOf, type Frame } from './codec.ts'
import { fastClientMessage, fastServerMessage } from './fast-check.ts'
import { readUpdateMessage } from './msgpack-read.ts'
import type { Encoding } from './version.ts'

export type Parsed<T> =
  | { ok: true; msg: T; encoding: Encoding }
  /** `id`: the request id the bad message carried, when it had a readable one. */
  | { ok: false; error: StatecraftError; id?: number; type?: string }

const MAX_MESSAGE = 300

function describe(e: z.ZodError): string {
  const issue = e.issues[0]
  if (issue === undefined) return 'invalid message'
  const path = issue.path.length === 0 ? 'message' : issue.path.map(String).join('.')
  const s = `${path}: ${issue.message}`
  return s.length > MAX_MESSAGE ? s.slice(0, MAX_MESSAGE) + '…' : s
}

/** The `id` and `type` a malformed message carried, so an error can name the request. */
function salvage(raw: unknown): { id?: number; type?: string } {
  if (typeof raw !== 'object' || raw === null) return {}
  const { id, type } = raw as { id?: unknown; type?: unknown }
  const out: { id?: number; type?: string } = {}
  if (typeof id === 'number' && Number.isSafeInteger(id) && id >= 0) out.id = id
  if (typeof type === 'string') out.type = type.length > 40 ? type.slice(0, 40) : type
  return out
}

function parseWith<T>(schema: z.ZodType<T>, fast: (raw: unknown) => T | undefined, frame: Frame): Parsed<T> {
  const codec = codecOf(frame)
  let raw: unknown
  try {
    raw = codec.decode(frame)
  } catch (e) {
    const why = e instanceof Error ? e.message : String(e)
    return { ok: false, error: new StatecraftError('protocol', `malformed ${codec.encoding} frame: ${why.slice(0, MAX_MESSAGE)}`) }
  }
  // The hot messages, when certainly valid, skip zod (fast-check.ts); the rest and anything doubtful take it.
  const quick = fast(raw)
  if (quick !== undefined) return { ok: true, msg: quick, encoding: codec.encoding }
  let r: z.ZodSafeParseResult<T>
  try {
    r = schema.safeParse(raw)
  } catch (e) {
    // Only pathological input (a stack overflow on deep nesting) gets here.
    return { ok: false, error: new StatecraftError('protocol', `unreadable message: ${e instanceof Error ? e.message : String(e)}`), ...salvage(raw) }
  }
  if (r.success) return { ok: true, msg: r.data, encoding: codec.encoding }
  return { ok: false, error: new StatecraftError('protocol', describe(r.error)), ...salvage(raw) }
}

/** Decodes and validates a frame a client sent. */
export const decodeClientFrame = (frame: Frame): Parsed<ClientMessage> => parseWith(clientMessageSchema, fastClientMessage, frame)

/** Decodes and validates a frame a server sent. */
export function decodeServerFrame(frame: Frame): Parsed<ServerMessage> {
  // The hottest frame, a MessagePack update, is read and checked in one pass when it certainly is a valid one.
  if (typeof frame !== 'string') {
    const msg = readUpdateMessage(frame)
    if (msg !== undefined) return { ok: true, msg, encoding: 'msgpack' }
  }
  return parseWith(serverMessageSchema, fastServerMessage, frame)
}
