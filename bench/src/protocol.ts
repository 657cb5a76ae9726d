// The bench's IPC between the main process and a server process (server-process.ts).
export type System = 'statecraft' | 'sharedb' | 'yjs'

/** The level store's diagnostic figures, when it has `memoryStats()` (another engineer's addition). */
export interface StoreMemoryStats {
  docs: number
  textBytes: number
  opLogBytes: number
  heapEstimate: number
}

export type Request =
  | { id: number; cmd: 'wait-for'; key: string; content: string; timeoutMs: number }
  | { id: number; cmd: 'heap' }
  | { id: number; cmd: 'data-heap' }
  | { id: number; cmd: 'read'; key: string }
  | { id: number; cmd: 'memory-stats' }
  | { id: number; cmd: 'cpu' }

export interface Reply {
  id: number
  value?: unknown
  error?: string
}
