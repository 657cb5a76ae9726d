// @statecraft/server: a Statecraft store served over WebSocket. One Backend per server, one Agent
// per connection; the in-process transport (`connectLocal`) for tests and embedding.
export { createServer, type StatecraftServer } from './create-server.ts'
export { Backend, type BackendOptions } from './backend.ts'
export { Agent } from './agent.ts'
export { handlers, dispatch } from './handlers.ts'
export { wsPort } from './ws-port.ts'
export { staticFiles } from './static-files.ts'
export {
  DEFAULT_LIMITS, resolveLimits, consoleLog,
  type ServerOptions, type ServerLimits, type Authenticate, type Rules, type PresenceAllowed, type Log, type LogEvent,
} from './options.ts'
export { PresenceRooms, type PresenceMember } from './presence.ts'
export type { Session, ServerContext, SessionState } from './session.ts'
