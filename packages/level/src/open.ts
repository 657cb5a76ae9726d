// Opening a store directory: decide, before LevelDB touches anything, whether the directory is a
// Statecraft store this code can read, an empty place for a new one, or something else (refused,
// unchanged). The marker file statecraft.json says so without opening LevelDB, and carries the
// source uid, so `levelStore()` can return a Store whose `info.uid` is known at once.
import { closeSync, fsyncSync, linkSync, mkdirSync, openSync, readFileSync, readdirSync, statSync, unlinkSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { StatecraftError } from '@statecraft/core'

/** The on-disk format this code writes and the newest it reads. */
export const FORMAT_VERSION = 1
export const MARKER = 'statecraft.json'

export interface Marker {
  format: number
  uid: string
}

export type DirState =
  | { kind: 'new' }
  /** `hasDb` false: a crash came between writing the marker and creating LevelDB. */
  | { kind: 'existing'; marker: Marker; hasDb: boolean }

/** Looks at a directory without changing it. Throws `invalid` / `unsupported` for what it refuses. */
export function inspectDir(path: string): DirState {
  let isDir: boolean
  try {
    isDir = statSync(path).isDirectory()
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return { kind: 'new' }
    throw new StatecraftError('invalid', `cannot read ${path}: ${(e as Error).message}`)
  }
  if (!isDir) throw new StatecraftError('invalid', `${path} is not a directory, so it cannot hold a Statecraft store`)
  const names = readdirSync(path)
  if (!names.includes(MARKER)) {
    // Only a half-written marker: a crash while creating the store.
    if (names.every(n => n.startsWith(`${MARKER}.`) && n.endsWith('.tmp'))) return { kind: 'new' }
    throw new StatecraftError(
      'invalid',
      `${path} is not a Statecraft store (it is not empty and has no ${MARKER}); refusing to open it so nothing in it changes`,
    )
  }
  let marker: Marker
  try {
    marker = JSON.parse(readFileSync(join(path, MARKER), 'utf8')) as Marker
  } catch (e) {
    throw new StatecraftError('invalid', `${join(path, MARKER)} is unreadable: ${(e as Error).message}`)
  }
  if (typeof marker !== 'object' || marker === null || !Number.isSafeInteger(marker.format) || typeof marker.uid !== 'string' || marker.uid === '') {
    throw new StatecraftError('invalid', `${join(path, MARKER)} is not a Statecraft store marker`)
  }
  if (marker.format > FORMAT_VERSION) {
    throw new StatecraftError(
      'unsupported',
      `the store at ${path} was written by a newer Statecraft (format ${marker.format}; this version reads up to ${FORMAT_VERSION}); upgrade @statecraft/level to open it`,
    )
  }
  if (marker.format < 1) throw new StatecraftError('invalid', `${join(path, MARKER)} names an unknown format ${marker.format}`)
  return { kind: 'existing', marker, hasDb: names.includes('CURRENT') }
}

/**
 * Creates the directory and writes the marker durably (temp file, fsync, link, fsync dir). The
 * link fails if another store created the marker meanwhile, so two stores never share a directory.
 */
export function writeMarker(path: string, marker: Marker): void {
  mkdirSync(path, { recursive: true })
  const tmp = join(path, `${MARKER}.${process.pid}.tmp`)
  writeFileSync(tmp, JSON.stringify({ ...marker, note: 'A Statecraft LevelDB store. Open it with @statecraft/level.' }, null, 2) + '\n')
  const fd = openSync(tmp, 'r')
  try {
    fsyncSync(fd)
  } finally {
    closeSync(fd)
  }
  try {
    linkSync(tmp, join(path, MARKER))
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'EEXIST') throw new StatecraftError('invalid', `another store was just created at ${path}`)
    throw e
  } finally {
    unlinkSync(tmp)
  }
  const dfd = openSync(path, 'r')
  try {
    fsyncSync(dfd)
  } finally {
    closeSync(dfd)
  }
}
