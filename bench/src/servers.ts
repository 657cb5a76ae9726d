// Starts a server process (server-process.ts) and talks to it over IPC.
import { fork, type ChildProcess } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import type { Reply, Request, System } from './protocol.ts'

export interface ServerProcess {
  readonly url: string
  readonly child: ChildProcess
  /** Resolves once the server holds exactly `content` at `key` (a text doc). */
  waitFor(key: string, content: string, timeoutMs?: number): Promise<void>
  /** The server's heap after gc (needs `exposeGc`). */
  heap(): Promise<number>
  stop(): Promise<void>
}

const live = new Set<ChildProcess>()
// A bench that throws or is interrupted leaves no server behind.
process.on('exit', () => {
  for (const c of live) c.kill()
})

export async function startServer(system: System, opts: { exposeGc?: boolean } = {}): Promise<ServerProcess> {
  // BENCH_SERVER_PROF=dir: the server processes write CPU profiles there (node --cpu-prof).
  const prof = process.env.BENCH_SERVER_PROF
  const execArgv = ['--import', 'tsx', ...(opts.exposeGc === true ? ['--expose-gc'] : []), ...(prof === undefined ? [] : ['--cpu-prof', `--cpu-prof-dir=${prof}`])]
  const child = fork(fileURLToPath(new URL('./server-process.ts', import.meta.url)), [system], { execArgv, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] })
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
    stop: async () => {
      if (child.exitCode === null && child.connected) child.disconnect()
      const t = setTimeout(() => child.kill(), 5000)
      await exited
      clearTimeout(t)
    },
  }
}
