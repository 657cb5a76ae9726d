#!/usr/bin/env node
// The `statecraft` command. The sources are TypeScript; tsx runs them without a build step.
import { register } from 'tsx/esm/api'

register()
const { main } = await import('../src/index.ts')
process.exitCode = await main(process.argv.slice(2))
