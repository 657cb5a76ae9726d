// `npm start`: the main job — builds the demo app when its build is missing or older than its
// sources, then runs `statecraft serve` on the embedded LevelDB store in ./data with the demo's
// access rules, serving the demo page and the sync endpoint (/sync) from one process.
// PORT and STATECRAFT_DATA override the defaults; STATECRAFT_SECRET the token secret.
import { resolve } from 'node:path'
import { main } from '@statecraft/cli'
import { buildDemo, demoRules } from './demo-build.ts'

const root = resolve(import.meta.dirname, '..')
const dist = buildDemo()
const args = ['serve', '--data', process.env.STATECRAFT_DATA ?? `${root}/data`, '--port', process.env.PORT ?? '4000', '--rules', demoRules]
if (dist !== undefined) args.push('--static', dist)
const code = await main(args)
if (code !== 0) process.exit(code)
