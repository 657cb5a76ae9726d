// The bench's IPC between the main process and a server process (server-process.ts).
export type System = 'statecraft' | 'sharedb' | 'yjs'

export type Request =
  | { id: number; cmd: 'wait-for'; key: string; content: string; timeoutMs: number }
  | { id: number; cmd: 'heap' }

export interface Reply {
  id: number
  value?: unknown
  error?: string
}
