// Argument parsing for `statecraft`: node's own parseArgs (no dependency for a handful of flags),
// with every value checked and a clear message naming what was wrong.
import { parseArgs } from 'node:util'
import { serve } from './serve.ts'

export interface ServeArgs {
  data: string
  memory: boolean
  host: string
  port: number
  path: string
  static?: string
  /** A module exporting `rules` and `authenticate(secret)` (as @statecraft/rules' examples/demo-rules.ts). */
  rules?: string
}

export const USAGE = `Usage: statecraft serve [options]

Serve a Statecraft store over WebSocket.

Options:
  --data <dir>     LevelDB directory (default ./data); created when missing
  --memory         keep data in memory only (a throwaway store; --data is ignored)
  --host <host>    interface to listen on (default 127.0.0.1)
  --port <port>    port (default 4000; 0 picks a free one)
  --path <path>    WebSocket path (default /sync)
  --static <dir>   also serve the files in <dir> over HTTP (the demo app)
  --rules <module> access rules: a module exporting \`rules\` and \`authenticate(secret)\`;
                   the token secret is $STATECRAFT_SECRET, or one generated once and kept
                   in <data>/token-secret
  -h, --help       show this help
`

export class UsageError extends Error {}

export function parseServeArgs(argv: string[]): ServeArgs {
  let parsed
  try {
    parsed = parseArgs({
      args: argv,
      strict: true,
      allowPositionals: false,
      options: {
        data: { type: 'string', default: './data' },
        memory: { type: 'boolean', default: false },
        host: { type: 'string', default: '127.0.0.1' },
        port: { type: 'string', default: '4000' },
        path: { type: 'string', default: '/sync' },
        static: { type: 'string' },
        rules: { type: 'string' },
      },
    })
  } catch (e) {
    throw new UsageError(e instanceof Error ? e.message : String(e))
  }
  const v = parsed.values
  const port = Number(v.port)
  if (!/^\d+$/.test(v.port) || port > 65535) throw new UsageError(`--port must be a whole number from 0 to 65535, got ${JSON.stringify(v.port)}`)
  if (!v.path.startsWith('/')) throw new UsageError(`--path must start with /, got ${JSON.stringify(v.path)}`)
  if (v.data === '') throw new UsageError('--data must name a directory')
  if (v.rules === '') throw new UsageError('--rules must name a module')
  return {
    data: v.data, memory: v.memory, host: v.host, port, path: v.path,
    ...(v.static === undefined ? {} : { static: v.static }),
    ...(v.rules === undefined ? {} : { rules: v.rules }),
  }
}

/** Runs the CLI; resolves to the exit code once a server has started (it keeps running) or failed. */
export async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv
  if (command === undefined || command === '-h' || command === '--help' || rest.includes('-h') || rest.includes('--help')) {
    console.log(USAGE)
    return command === undefined ? 1 : 0
  }
  if (command !== 'serve') {
    console.error(`statecraft: unknown command ${JSON.stringify(command)}\n\n${USAGE}`)
    return 2
  }
  let args: ServeArgs
  try {
    args = parseServeArgs(rest)
  } catch (e) {
    console.error(`statecraft: ${e instanceof Error ? e.message : String(e)}\n\n${USAGE}`)
    return 2
  }
  try {
    const s = await serve(args)
    console.log(`statecraft: serving ${args.memory ? 'a memory store' : `LevelDB at ${args.data}`}${args.rules === undefined ? '' : ` with the rules of ${args.rules}`} on ${s.url}`)
    if (s.httpUrl !== undefined) console.log(`statecraft: open ${s.httpUrl}`)
    const stop = (): void => {
      console.log('statecraft: shutting down')
      s.close().then(() => process.exit(0), (e: unknown) => {
        console.error('statecraft: error while closing:', e)
        process.exit(1)
      })
    }
    process.once('SIGINT', stop)
    process.once('SIGTERM', stop)
    return 0
  } catch (e) {
    console.error(`statecraft: could not start: ${e instanceof Error ? e.message : String(e)}`)
    return 1
  }
}
