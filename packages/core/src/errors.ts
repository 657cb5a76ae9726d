// One error class for every failure a store, proxy or transport reports; codes cross the wire unchanged.

export const ERROR_CODES = [
  'conflict',
  'unauthorized',
  'forbidden',
  'invalid',
  'not-found',
  'unsupported',
  'version-too-old',
  'too-large',
  'rate-limited',
  'closed',
  'protocol',
  'internal',
] as const
export type ErrorCode = (typeof ERROR_CODES)[number]

export interface WireError {
  code: ErrorCode
  message: string
  details?: Record<string, unknown>
}

export class StatecraftError extends Error {
  override readonly name = 'StatecraftError'
  readonly code: ErrorCode
  readonly details: Record<string, unknown> | undefined

  constructor(code: ErrorCode, message: string, details?: Record<string, unknown>) {
    super(message)
    this.code = code
    this.details = details
  }

  toWire(): WireError {
    return this.details === undefined
      ? { code: this.code, message: this.message }
      : { code: this.code, message: this.message, details: this.details }
  }

  static fromWire(w: WireError): StatecraftError {
    const code: ErrorCode = isErrorCode(w.code) ? w.code : 'internal'
    return new StatecraftError(code, w.message, w.details)
  }

  /** Any thrown thing as a StatecraftError; unknown errors become `internal`. */
  static from(e: unknown): StatecraftError {
    if (e instanceof StatecraftError) return e
    return new StatecraftError('internal', e instanceof Error ? e.message : String(e))
  }
}

export function isErrorCode(c: unknown): c is ErrorCode {
  return typeof c === 'string' && (ERROR_CODES as readonly string[]).includes(c)
}

/** True when `e` is a StatecraftError with one of the codes. */
export function hasCode(e: unknown, ...codes: ErrorCode[]): e is StatecraftError {
  return e instanceof StatecraftError && codes.includes(e.code)
}

export const closedError = (what = 'store'): StatecraftError =>
  new StatecraftError('closed', `the ${what} is closed`)
