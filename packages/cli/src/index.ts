// The `statecraft` CLI: `statecraft serve` runs a server on the embedded LevelDB store (or memory).
export { main, parseServeArgs, type ServeArgs } from './cli.ts'
export { serve, type Serving } from './serve.ts'
