// Compares the ratios of two bench runs: `tsx src/compare.ts old.json new.json` (results.json
// files). Prints each ratio of both runs and how far the second is from the first; a change over
// ±20% is marked.
import { readFileSync } from 'node:fs'

const [a, b] = process.argv.slice(2)
if (a === undefined || b === undefined) throw new Error('usage: tsx src/compare.ts old.json new.json')
const read = (f: string): Record<string, number> => (JSON.parse(readFileSync(f, 'utf8')) as { ratios?: Record<string, number> }).ratios ?? {}
const ra = read(a)
const rb = read(b)
let over = 0
for (const k of new Set([...Object.keys(ra), ...Object.keys(rb)])) {
  const x = ra[k]
  const y = rb[k]
  const change = x !== undefined && y !== undefined ? y / x - 1 : NaN
  const flag = Math.abs(change) > 0.2 ? '  ← over ±20%' : ''
  if (flag !== '') over++
  console.log(`${k.padEnd(42)} ${x?.toFixed(2).padStart(7) ?? '      —'} ${y?.toFixed(2).padStart(7) ?? '      —'}  ${Number.isNaN(change) ? '' : `${change >= 0 ? '+' : ''}${(change * 100).toFixed(0)}%`}${flag}`)
}
console.log(`${over} of the ratios moved more than 20%`)
