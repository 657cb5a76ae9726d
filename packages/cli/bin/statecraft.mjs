#!/usr/bin/env node
// The `statecraft` command. The sources are TypeScript; ../register.mjs runs them without a build step.
import '../register.mjs'

const { main } = await import('../src/index.ts')
process.exitCode = await main(process.argv.slice(2))
