// `npm start`: the main job — `statecraft serve` on the embedded LevelDB store in ./data,
// serving the demo app when it has been built. PORT and STATECRAFT_DATA override the defaults.
import { existsSync } from 'node:fs'
import { join } from 'node:path'
import { main } from '@statecraft/cli'

const root = join(import.meta.dirname, '..')
const demo = join(root, 'apps', 'demo', 'dist')
const args = ['serve', '--data', process.env.STATECRAFT_DATA ?? join(root, 'data'), '--port', process.env.PORT ?? '4000']
if (existsSync(demo)) args.push('--static', demo)
const code = await main(args)
if (code !== 0) process.exit(code)
