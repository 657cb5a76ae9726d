// Runs Statecraft's TypeScript sources without a build step: `node --import @statecraft/cli/register`.
// tsx resolves and loads every module, as before, except the Statecraft packages' own .ts files,
// which load-hooks.mjs compiles with the same esbuild and options but without `keepNames` (see there).
import { register } from 'node:module'
import { register as registerTsx } from 'tsx/esm/api'

registerTsx()
// Registered after tsx, so these hooks run first and hand everything else on to tsx's.
register('./load-hooks.mjs', import.meta.url)
