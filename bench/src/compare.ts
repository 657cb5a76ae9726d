// Compares the ratios of two bench runs: `tsx src/compare.ts old.json new.json` (results.json
// files). Prints each ratio of both runs and how far the second is from the first; a change over
// ±20% is marked. `--of-medians` compares the ratios of the medians instead (results.json keeps
// both; the table shows the median of the per-run ratios); `--cpu` the ratios by CPU time
// (sections 1 and 2).
import { readFileSync } from 'node:fs'

const args = process.argv.slice(2)
const key = args.includes('--of-medians') ? 'ratiosOfMedians' : args.includes('--cpu') ? 'cpuRatios' : 'ratios'
const [a, b] = args.filter(x => !x.startsWith('--'))
if (a === undefined || b === undefined) throw new Error('usage: tsx src/compare.ts [--of-medians | --cpu] old.json new.json')
const read = (f: string): Record<string, number> => (JSON.parse(readFileSync(f, 'utf8')) as Record<string, Record<string, number> | undefined>)[key] ?? {}
const ra = read(a)
const rb = read(b)
let over = 0
let both = 0
let worst = 0
for (const k of new Set([...Object.keys(ra), ...Object.keys(rb)])) {
  const x = ra[k]
  const y = rb[k]
  const change = x !== undefined && y !== undefined ? y / x - 1 : NaN
  if (!Number.isNaN(change)) {
    both++
    worst = Math.max(worst, Math.abs(change))
  }
  const flag = Math.abs(change) > 0.2 ? '  ← over ±20%' : ''
  if (flag !== '') over++
  console.log(`${k.padEnd(42)} ${x?.toFixed(2).padStart(7) ?? '      —'} ${y?.toFixed(2).padStart(7) ?? '      —'}  ${Number.isNaN(change) ? '' : `${change >= 0 ? '+' : ''}${(change * 100).toFixed(0)}%`}${flag}`)
}
console.log(`${over} of the ${both} ratios in both moved more than 20% (largest move ${(worst * 100).toFixed(0)}%)`)
