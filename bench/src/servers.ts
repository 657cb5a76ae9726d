// Starts a server process (server-process.ts) and talks to it over IPC; with BENCH_PIN=1, pins the
// bench process and the servers to different cores.
import { execFileSync, fork, type ChildProcess } from 'node:child_process'
import { existsSync } from 'node:fs'
import { cpus } from 'node:os'
import { fileURLToPath } from 'node:url'
import type { Reply, Request, StoreMemoryStats, System } from './protocol.ts'

const TASKSET = ['/usr/bin/taskset', '/bin/taskset'].find(p => existsSync(p))
/**
 * Core pinning (util-linux `taskset`), with `BENCH_PIN=1` where `taskset` exists and there are 2
 * cores or more: the bench process (clients) on core 0, every server process on core 1. Off by
 * default: on a machine shared with other work it did not make the ratios repeat better (see
 * README), and a pinned process cannot move off a core that other work is using.
 */
export const PINNING: { bench: number; server: number } | undefined = TASKSET !== undefined && cpus().length >= 2 && process.env.BENCH_PIN === '1' ? { bench: 0, server: 1 } : undefined

/** Pins this process (every thread it has, and so the ones it starts) to the bench core. */
export function pinBenchProcess(): void {
  if (PINNING === undefined || TASKSET === undefined) return
  execFileSync(TASKSET, ['-a', '-p', '-c', String(PINNING.bench), String(process.pid)], { stdio: 'ignore' })
}

export interface ServerProcess {
  readonly url: string
  readonly child: ChildProcess
  /** Resolves once the server holds exactly `content` at `key` (a text doc). */
  waitFor(key: string, content: string, timeoutMs?: number): Promise<void>
  /** The server's heapUsed after gc. */
  heap(): Promise<number>
  /** heapUsed after gc minus V8's code spaces (compiled code is not data the server holds). */
  dataHeap(): Promise<number>
  /** The value the server holds at `key` (undefined when none). */
  read(key: string): Promise<unknown>
  /** The store's `memoryStats()`, or null when it has none. */
  memoryStats(): Promise<StoreMemoryStats | null>
  /** CPU time the server process has used so far (user + system), µs. */
  cpu(): Promise<number>
  stop(): Promise<void>
}

const live = new Set<ChildProcess>()
// A bench that throws or is interrupted leaves no server behind.
process.on('exit', () => {
  for (const c of live) c.kill()
})

/** `store: 'memory'`: the Statecraft server on the memory store instead of LevelDB (no disk in the path). */
export interface ServerOptions {
  store?: 'memory'
}

/** @statecraft/cli/register, resolved here so that the child finds it whatever its working directory. */
const REGISTER = import.meta.resolve('@statecraft/cli/register')

export async function startServer(system: System, options: ServerOptions = {}): Promise<ServerProcess> {
  // BENCH_SERVER_PROF=dir: the server processes write CPU profiles there (node --cpu-prof).
  const prof = process.env.BENCH_SERVER_PROF
  // The way `statecraft serve` runs the sources (tsx, with the packages compiled without keepNames).
  const nodeArgs = ['--import', REGISTER, '--expose-gc', ...(prof === undefined ? [] : ['--cpu-prof', `--cpu-prof-dir=${prof}`])]
  // Pinned: taskset execs node on the server core; the IPC channel's fd passes through the exec.
  const pinned = PINNING !== undefined && TASKSET !== undefined ? { execPath: TASKSET, execArgv: ['-c', String(PINNING.server), process.execPath, ...nodeArgs] } : { execArgv: nodeArgs }
  const child = fork(fileURLToPath(new URL('./server-process.ts', import.meta.url)), options.store === undefined ? [system] : [system, options.store], { ...pinned, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] })
  live.add(child)
  const exited = new Promise<void>(resolve => child.once('exit', () => resolve()))
  void exited.then(() => live.delete(child))
  const url = await new Promise<string>((resolve, reject) => {
    child.once('message', m => resolve((m as { url: string }).url))
    child.once('exit', code => reject(new Error(`the ${system} server process exited (${code})`)))
  })
  let nextId = 1
  const waiting = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>()
  child.on('message', (m: Reply) => {
    const w = waiting.get(m.id)
    if (w === undefined) return
    waiting.delete(m.id)
    if (m.error !== undefined) w.reject(new Error(`${system} server: ${m.error}`))
    else w.resolve(m.value)
  })
  child.once('exit', () => {
    for (const w of waiting.values()) w.reject(new Error(`the ${system} server process exited`))
  })
  const request = (r: Request extends infer R ? (R extends unknown ? Omit<R, 'id'> : never) : never): Promise<unknown> =>
    new Promise((resolve, reject) => {
      const id = nextId++
      waiting.set(id, { resolve, reject })
      child.send({ ...r, id })
    })
  return {
    url,
    child,
    waitFor: async (key, content, timeoutMs = 120_000) => {
      await request({ cmd: 'wait-for', key, content, timeoutMs })
    },
    heap: async () => (await request({ cmd: 'heap' })) as number,
    dataHeap: async () => (await request({ cmd: 'data-heap' })) as number,
    read: key => request({ cmd: 'read', key }),
    memoryStats: async () => (await request({ cmd: 'memory-stats' })) as StoreMemoryStats | null,
    cpu: async () => (await request({ cmd: 'cpu' })) as number,
    stop: async () => {
      if (child.exitCode === null && child.connected) child.disconnect()
      const t = setTimeout(() => child.kill(), 5000)
      await exited
      clearTimeout(t)
    },
  }
}
