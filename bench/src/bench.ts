// `pnpm bench` for the comparison: Statecraft against ShareDB and Yjs, measured in the same run on
// the same machine. Not a test: it prints a table (markdown) and writes bench/results.json.
//
//  1. Trace replay: the sequential editing traces typed through the full stack (client →
//     WebSocket on 127.0.0.1 → server in a child process → store → ack), one patch per API call
//     and one txn per event-loop turn, until the server holds endContent. Edits/s.
//  2. Local apply: the same traces on a client with no network, against raw ot-text-unicode and Yjs.
//  3. Fan-out: delay from a write to its arrival at 1, 10 and 100 subscribed clients.
//  4. Memory: server heap per idle connected client with one subscription, at 1,000 clients.
//  5. Cold start: a prefix query on a client whose LevelDB cache holds 10,000 docs, offline.
//  6. Many subscriptions: 200 remote updates to a client subscribed to 4,000 docs.
//  7. Large document: 1-character edits/s on a 1 MB text through the full stack.
//
// Each figure is the median of BENCH_RUNS runs (default 5; BENCH_SHORT_RUNS, default 9, for the
// short traces and fan-out; section 6 counts rounds), runs of the systems interleaved (run i of every
// system back to back, the order alternating), a gc before each run. Each ratio is the median of
// the per-run ratios (Statecraft run i / other run i), not the ratio of the medians: a pair of runs
// shares the machine's load of that moment. BENCH_PIN=1 pins the bench process and the servers to
// different cores with `taskset` (servers.ts). A targets block at the end lists every
// target of issues 9 and 10 with the measured value and whether it holds.
// Options (env): those two, BENCH_ONLY=1,3 (sections), BENCH_TRACES=sveltecomponent,… and the
// per-section ones listed in README.md.
// Editing traces by Joseph Gentle, from https://github.com/josephg/editing-traces, licensed CC BY 4.0
// (read from ../shared/traces, not copied here).
import { existsSync, readFileSync, writeFileSync } from 'node:fs'
import { cpus, loadavg, tmpdir } from 'node:os'
import { fileURLToPath } from 'node:url'
import { openText } from './clients.ts'
import { coldStartOffline, coldStartOnline, makeColdCache, seedServer, COLD_DOCS, type ColdStart } from './cold-start.ts'
import { fanout } from './fanout.ts'
import { largeDocEdits } from './large-doc.ts'
import { localApply, type LocalSystem } from './local-apply.ts'
import { manySubscriptions, SUBS, UPDATES } from './many-subs.ts'
import { heapPerClient } from './memory.ts'
import type { StoreMemoryStats, System } from './protocol.ts'
import { pinBenchProcess, PINNING, startServer, type ServerProcess } from './servers.ts'
import { collect, cpuMicros, fmtBytes, fmtInt, fmtMs, fmtRatio, median, pairedRatio, sleep, turn } from './stats.ts'
import { hasTrace, loadTrace, SEQUENTIAL, type Trace } from './traces.ts'

const RUNS = Number(process.env.BENCH_RUNS ?? 5)
// Traces that replay in a second or two get more runs: their medians move less between runs.
const SHORT_RUNS = Number(process.env.BENCH_SHORT_RUNS ?? Math.max(RUNS, 9))
const runsFor = (t: { patches: number }): number => (t.patches < 50_000 ? SHORT_RUNS : RUNS)
// Section 6: a run sets up 4,000 subscriptions on each system (seconds), then measures rounds of
// ~20–100 ms each: several rounds a run are cheap.
const MANY_RUNS = Number(process.env.BENCH_MANY_RUNS ?? 4)
const MANY_ROUNDS = Number(process.env.BENCH_MANY_ROUNDS ?? 6)
// Sections 1 and 2: a run of a system repeats the trace until it has taken this long (a
// Statecraft replay of a short trace takes ~0.1 s; the others' runs ~0.5–15 s).
const MIN_RUN_MS = Number(process.env.BENCH_MIN_RUN_MS ?? 1000)
const only = process.env.BENCH_ONLY?.split(',').map(Number)
const wanted = (n: number): boolean => only === undefined || only.includes(n)
const requestedTraces = process.env.BENCH_TRACES?.split(',') ?? [...SEQUENTIAL]
const traceNames = requestedTraces.filter(hasTrace)
const SYSTEMS: System[] = ['statecraft', 'sharedb', 'yjs']

/** A figure: the median of its runs, or why it failed. */
interface Figure {
  median: number
  runs: number[]
  /** Where measured (sections 1 and 2): each run's work per CPU-second (client + server process). */
  cpu?: number[]
  error?: string
}

/** A run's figure with its work per CPU-second (patches / CPU seconds of the processes doing the work). */
interface Measured {
  value: number
  perCpuSecond: number
}

const results: Record<string, unknown> = {}
const lines: string[] = []
const out = (s = ''): void => {
  lines.push(s)
  console.log(s)
}
const note = (s: string): void => console.error(`  … ${s}`)
const nRuns = (n: number): string => `${n} run${n === 1 ? '' : 's'}`

/**
 * An exception thrown where no run awaits it (in a client's callback, say) fails the run in
 * progress, which is recorded like any failure, instead of ending the whole bench.
 */
let failRun: ((e: unknown) => void) | undefined
const stray = (e: unknown): void => {
  if (failRun === undefined) {
    console.error(e)
    process.exit(1)
  }
  failRun(e)
}
process.on('uncaughtException', stray)
process.on('unhandledRejection', stray)
function guarded<T>(run: () => Promise<T>): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    failRun = reject
    run().then(resolve, reject)
  }).finally(() => (failRun = undefined))
}

/** Runs `f` `runs` times; a failure is recorded, not hidden. */
async function figure(label: string, runs: number, f: (run: number) => Promise<number>): Promise<Figure> {
  const xs: number[] = []
  try {
    for (let r = 0; r < runs; r++) {
      collect()
      xs.push(await guarded(() => f(r)))
      note(`${label} run ${r + 1}: ${xs.at(-1)?.toFixed(2)}`)
    }
    return { median: median(xs), runs: xs }
  } catch (e) {
    const error = e instanceof Error ? e.message : String(e)
    note(`${label} FAILED: ${error}`)
    return { median: NaN, runs: xs, error }
  }
}

/**
 * Runs `f(system, run)` `runs` times for each system, interleaved (run 1 of each, then run 2, …,
 * odd runs in the reverse order) so that drift in the machine's load hits every system alike; a
 * gc in this process before each run. A system that fails is recorded with its error and not run
 * again; one whose runs have taken `budgetMs` in all is not run again either (it keeps the runs it has).
 */
async function interleaved<S extends string>(label: string, systems: readonly S[], runs: number, f: (system: S, run: number) => Promise<number | Measured>, budgetMs = Infinity): Promise<Record<S, Figure>> {
  const xs = new Map<S, number[]>(systems.map(s => [s, []]))
  const cpus = new Map<S, number[]>(systems.map(s => [s, []]))
  const errors = new Map<S, string>()
  const spent = new Map<S, number>(systems.map(s => [s, 0]))
  for (let r = 0; r < runs; r++) {
    // Odd runs go in the reverse order, so that a trend in the load over a round favours no system.
    for (const s of r % 2 === 0 ? systems : [...systems].reverse()) {
      if (errors.has(s) || r >= runs || (spent.get(s) ?? 0) >= budgetMs) continue
      collect()
      try {
        const t = performance.now()
        const m = await guarded(() => f(s, r))
        spent.set(s, (spent.get(s) ?? 0) + performance.now() - t)
        const x = typeof m === 'number' ? m : m.value
        xs.get(s)?.push(x)
        if (typeof m !== 'number') cpus.get(s)?.push(m.perCpuSecond)
        note(`${label} ${s} run ${r + 1}/${runs}: ${x.toFixed(2)}${typeof m === 'number' ? '' : ` (${m.perCpuSecond.toFixed(0)} per CPU-second)`}`)
      } catch (e) {
        const error = e instanceof Error ? e.message : String(e)
        errors.set(s, error)
        note(`${label} ${s} FAILED: ${error}`)
      }
    }
  }
  const out = {} as Record<S, Figure>
  for (const s of systems) {
    const runsOf = xs.get(s) ?? []
    const cpu = cpus.get(s) ?? []
    const error = errors.get(s)
    out[s] = { median: error === undefined ? median(runsOf) : NaN, runs: runsOf, ...(cpu.length > 0 ? { cpu } : {}), ...(error === undefined ? {} : { error }) }
  }
  return out
}

/**
 * Every ratio in the table, by name, for results.json (compare.ts diffs two runs by these): the
 * median of the per-run ratios. `ratiosOfMedians` keeps the ratio of the two medians beside it.
 */
const ratios: Record<string, number> = {}
const ratiosOfMedians: Record<string, number> = {}
/** The same ratios by CPU time where measured (work per CPU-second, paired by run): `compare --cpu`. */
const cpuRatios: Record<string, number> = {}
/** Statecraft's figure over another's: the median of the per-run ratios (see the top of the file). */
function ratioOf(name: string, a: Figure, b: Figure): number {
  if (a.error !== undefined || b.error !== undefined) return NaN
  const r = pairedRatio(a.runs, b.runs)
  if (Number.isFinite(r)) ratios[name] = Number(r.toFixed(3))
  if (Number.isFinite(a.median) && Number.isFinite(b.median) && b.median > 0) ratiosOfMedians[name] = Number((a.median / b.median).toFixed(3))
  const c = pairedRatio(a.cpu ?? [], b.cpu ?? [])
  if (Number.isFinite(c)) cpuRatios[name] = Number(c.toFixed(3))
  return r
}
/** The CPU-time ratio `ratioOf` recorded under `name`, formatted. */
const cpuRatio = (name: string): string => fmtRatio(cpuRatios[name] ?? NaN)
const ratio = (name: string, a: Figure, b: Figure): string => fmtRatio(ratioOf(name, a, b))

/** One target of issue 9 or 10: what was measured and whether it holds (undefined: not measured). */
interface Target {
  issue: string
  target: string
  measured: string
  holds: boolean | undefined
}
const targets: Target[] = []
const target = (issue: string, what: string, measured: string, holds: boolean | undefined): void => {
  targets.push({ issue, target: what, measured, holds })
}
/** A ratio target: `r` against `bound` (≥ or ≤), NaN = not measured. */
function ratioTarget(issue: string, what: string, r: number, op: '≥' | '≤', bound: number): void {
  target(issue, what, Number.isFinite(r) ? fmtRatio(r) : 'not measured', Number.isFinite(r) ? (op === '≥' ? r >= bound : r <= bound) : undefined)
}

const cell = (f: Figure, fmt: (n: number) => string): string => (f.error !== undefined ? `failed (${f.error.slice(0, 60)})` : fmt(f.median))

// ---- 1. trace replay

/** The Statecraft server's memory after a replay, against the text and op log it retains. */
interface ServerMemory {
  /** heapUsed after gc, before the replay and after it (the client still connected). */
  heapBefore: number
  heapAfter: number
  growth: number
  /** heapUsed after gc once the client has closed, minus heapBefore. */
  growthAfterClose: number
  /** The final text as the server holds it: 1 byte a char when every char is ≤ U+00FF (V8 keeps such a string one-byte), else 2 (UTF-16). */
  textBytes: number
  oneByte: boolean
  /** The store's op log growth over the replay (`memoryStats().opLogBytes` after − before); null when the store has no `memoryStats()`. */
  opLogBytes: number | null
  statsBefore: StoreMemoryStats | null
  statsAfter: StoreMemoryStats | null
}

/** Server memory after each Statecraft replay, by trace. */
const serverMemory: Record<string, ServerMemory[]> = {}
/** Replays whose final value the server reported, compared with endContent byte for byte (UTF-8), by trace and system. */
const byteChecks: Record<string, Record<string, { equal: number; runs: number; bytes: number }>> = {}

const oneByteString = (s: string): boolean => {
  for (let i = 0; i < s.length; i++) if (s.charCodeAt(i) > 0xff) return false
  return true
}

/**
 * One pass of `trace` through `system`: ms and CPU seconds (client + server process) from the
 * first edit until the server holds endContent. `check`: then read the server's value back and
 * compare it with endContent byte for byte. `memory` (Statecraft): record the server's heap growth.
 */
async function replayPass(system: System, server: ServerProcess, trace: Trace, key: string, opts: { check: boolean; memory: boolean }): Promise<{ ms: number; cpuSeconds: number }> {
  // The server's gc, which is also the Statecraft server's data heap before the replay.
  const heapBefore = await server.dataHeap()
  const memory = opts.memory && system === 'statecraft'
  const statsBefore = memory ? await server.memoryStats() : null
  let ms = 0
  let cpuSeconds = 0
  let heapAfter = NaN
  let statsAfter: StoreMemoryStats | null = null
  const s = await openText(system, server.url, key)
  try {
    const serverCpu = await server.cpu()
    const clientCpu = cpuMicros()
    const start = performance.now()
    for (const txn of trace.txns) {
      for (const p of txn) s.apply(p)
      await turn()
    }
    await server.waitFor(key, trace.endContent)
    ms = performance.now() - start
    cpuSeconds = (cpuMicros() - clientCpu + ((await server.cpu()) - serverCpu)) / 1e6
    if (s.value !== trace.endContent) throw new Error(`the ${system} client's text is not endContent`)
    if (opts.check) {
      // Byte for byte: the value the server holds, read back, against endContent, both as UTF-8.
      const held = await server.read(key)
      const expected = Buffer.from(trace.endContent, 'utf8')
      const equal = typeof held === 'string' && Buffer.from(held, 'utf8').equals(expected)
      const check = ((byteChecks[trace.name] ??= {})[system] ??= { equal: 0, runs: 0, bytes: expected.length })
      check.runs++
      if (equal) check.equal++
      else throw new Error(`the ${system} server holds ${typeof held === 'string' ? `${held.length} chars` : String(held)} that are not endContent byte for byte`)
    }
    if (memory) {
      heapAfter = await server.dataHeap()
      statsAfter = await server.memoryStats()
    }
  } finally {
    await s.close()
  }
  if (memory) {
    await sleep(100)
    const heapAfterClose = await server.dataHeap()
    const oneByte = oneByteString(trace.endContent)
    ;(serverMemory[trace.name] ??= []).push({
      heapBefore,
      heapAfter,
      growth: heapAfter - heapBefore,
      growthAfterClose: heapAfterClose - heapBefore,
      textBytes: trace.endContent.length * (oneByte ? 1 : 2),
      oneByte,
      opLogBytes: statsBefore !== null && statsAfter !== null ? statsAfter.opLogBytes - statsBefore.opLogBytes : null,
      statsBefore,
      statsAfter,
    })
  }
  return { ms, cpuSeconds }
}

/**
 * One run: passes of `trace` through `system` (each a fresh doc and client) until they have taken
 * MIN_RUN_MS, at least one; edits/s and edits per CPU-second over all of them.
 */
/** Fresh servers measured for the server's memory after each trace's replay. */
const MEMORY_RUNS = 3

async function replayRun(system: System, server: ServerProcess, trace: Trace, run: number): Promise<Measured> {
  let ms = 0
  let cpuSeconds = 0
  let passes = 0
  while (passes === 0 || ms < MIN_RUN_MS) {
    const p = await replayPass(system, server, trace, `${trace.name}-${run}-${passes}`, { check: true, memory: false })
    ms += p.ms
    cpuSeconds += p.cpuSeconds
    passes++
  }
  const patches = trace.patches * passes
  return { value: patches / (ms / 1000), perCpuSecond: patches / cpuSeconds }
}

async function traceReplay(traces: Trace[]): Promise<void> {
  const servers = new Map<System, ServerProcess>()
  for (const s of SYSTEMS) servers.set(s, await startServer(s))
  const section: Record<string, Record<string, Figure>> = {}
  try {
    // Warm-up (not measured): the smallest trace once through each system, so that no system's
    // first measured run pays for its JIT.
    const small = traces.reduce<Trace | undefined>((a, t) => (a === undefined || t.patches < a.patches ? t : a), undefined)
    if (small !== undefined) for (const s of SYSTEMS) await replayPass(s, servers.get(s) as ServerProcess, small, 'warm-up', { check: false, memory: false }).catch(() => {})
    for (const trace of traces) {
      const figs = await interleaved(`replay ${trace.name}`, SYSTEMS, runsFor(trace), (s, r) => replayRun(s, servers.get(s) as ServerProcess, trace, r))
      section[trace.name] = figs
    }
  } finally {
    for (const s of servers.values()) await s.stop()
  }
  // Server memory: each time on a fresh Statecraft server (its op log holds only what it was sent,
  // none of it evicted by its bound), warmed by the smallest trace in another doc, then one pass.
  const small = traces.reduce<Trace | undefined>((a, t) => (a === undefined || t.patches < a.patches ? t : a), undefined)
  for (const trace of traces) {
    for (let i = 0; i < MEMORY_RUNS; i++) {
      const server = await startServer('statecraft')
      try {
        if (small !== undefined) await replayPass('statecraft', server, small, 'warm-up', { check: false, memory: false })
        await replayPass('statecraft', server, trace, `${trace.name}-memory-${i}`, { check: true, memory: true })
      } finally {
        await server.stop()
      }
    }
  }
  results.traceReplay = { ...section, byteChecks, serverMemory }
  out('### 1. Trace replay through the full stack (edits/s; higher is better)')
  out()
  out(`Full traces: every patch of each file is replayed (${traces.map(t => `${t.name} ${fmtInt(t.patches)} patches in ${fmtInt(t.txns.length)} txns`).join(', ')}); nothing is capped. A run replays the trace pass after pass (each a fresh doc and client) until it has taken ${MIN_RUN_MS / 1000} s, at least once; each pass ends when the server holds \`endContent\`, then the value the server holds is read back and compared with \`endContent\` byte for byte (UTF-8).`)
  out()
  out('| trace | Statecraft | ShareDB | Yjs | Statecraft / ShareDB | Statecraft / Yjs | passes whose server value = endContent, byte for byte |')
  out('|---|---:|---:|---:|---:|---:|---|')
  for (const t of traces) {
    const f = section[t.name] as Record<System, Figure>
    const vsShareDB = ratioOf(`replay ${t.name} / ShareDB`, f.statecraft, f.sharedb)
    const vsYjs = ratioOf(`replay ${t.name} / Yjs`, f.statecraft, f.yjs)
    const checks = byteChecks[t.name] ?? {}
    const checked = SYSTEMS.map(s => `${s === 'statecraft' ? 'Statecraft' : s === 'sharedb' ? 'ShareDB' : 'Yjs'} ${checks[s]?.equal ?? 0}/${checks[s]?.runs ?? 0}`).join(', ')
    out(`| ${t.name} (${fmtInt(t.patches)} patches, ${nRuns(f.statecraft.runs.length)}) | ${cell(f.statecraft, fmtInt)} | ${cell(f.sharedb, fmtInt)} | ${cell(f.yjs, fmtInt)} | ${fmtRatio(vsShareDB)} | ${fmtRatio(vsYjs)} | ${checked} |`)
    ratioTarget('9, 10', `replay ${t.name} ≥ 3× ShareDB`, vsShareDB, '≥', 3)
    ratioTarget('10', `replay ${t.name} ≥ 3× Yjs`, vsYjs, '≥', 3)
  }
  out()
  cpuTable('replay', traces, ['ShareDB', 'Yjs'])
  const blog = traces.find(t => t.name === 'seph-blog1')
  if (blog !== undefined) {
    const c = byteChecks[blog.name]?.statecraft
    target('10', 'the whole of seph-blog1 replays (Statecraft) to endContent byte for byte', c === undefined ? 'not measured' : `${c.equal} of ${c.runs} passes equal (${fmtInt(c.bytes)} bytes)`, c === undefined || c.runs === 0 ? undefined : c.equal === c.runs)
  }
  memoryAfterReplay(traces)
}

/** The ratios of sections 1 and 2 again by CPU time (recorded by `ratioOf` under the same names). */
function cpuTable(section: 'replay' | 'local', traces: Trace[], others: string[]): void {
  const what = section === 'replay' ? 'edits per CPU-second of the client process and the server process together' : 'patches per CPU-second of the process'
  out(`The same ratios by CPU time (${what}; median of the per-run ratios). CPU time counts only while a process runs, so these move much less with the machine's load than the wall-clock ratios above; they are not the issue's figures.`)
  out()
  out(`| trace | ${others.map(o => `Statecraft / ${o}, CPU time`).join(' | ')} |`)
  out(`|---|${others.map(() => '---:').join('|')}|`)
  for (const t of traces) out(`| ${t.name} | ${others.map(o => cpuRatio(`${section} ${t.name} / ${o}`)).join(' | ')} |`)
  out()
}

/** The table of the Statecraft server's memory after each replay, and issue 10's target on seph-blog1. */
function memoryAfterReplay(traces: Trace[]): void {
  const rows = traces.filter(t => (serverMemory[t.name]?.length ?? 0) > 0)
  if (rows.length === 0) return
  out(`Statecraft server memory after the replay (${MEMORY_RUNS} runs, each on a fresh server process warmed by one pass of the smallest trace into another doc, so that its op log holds the whole replay, none of it evicted by the log's bound): heapUsed after gc less V8's code spaces (compiled code is not data) with the replay done (the client still connected; the figure judged) minus heapUsed after gc just before it, and the same once the client has closed, against the final text as the server holds it plus the op log the store retained over the replay (\`memoryStats().opLogBytes\` after − before). Text size: 1 byte a char when every char is ≤ U+00FF (all three traces are ASCII; V8 keeps such strings one byte a char), else 2 (UTF-16). Median of the runs.`)
  out()
  out('| trace | heap growth | after the client closed | final text | op log | text + op log | growth / (text + op log) |')
  out('|---|---:|---:|---:|---:|---:|---:|')
  for (const t of rows) {
    const ms = serverMemory[t.name] as ServerMemory[]
    const growth = median(ms.map(m => m.growth))
    const closed = median(ms.map(m => m.growthAfterClose))
    const text = ms[0]?.textBytes ?? NaN
    const opLogs = ms.map(m => m.opLogBytes).filter((x): x is number => x !== null)
    const opLog = opLogs.length === ms.length ? median(opLogs) : NaN
    const retained = text + opLog
    const textKind = ms[0]?.oneByte === true ? 'one-byte' : 'UTF-16'
    out(`| ${t.name} (${nRuns(ms.length)}) | ${fmtBytes(growth)} | ${fmtBytes(closed)} | ${fmtBytes(text)} (${textKind}) | ${Number.isNaN(opLog) ? 'unknown (the store has no `memoryStats()`)' : fmtBytes(opLog)} | ${Number.isNaN(retained) ? `unknown (text alone ${fmtBytes(text)})` : fmtBytes(retained)} | ${Number.isNaN(retained) ? `unknown (growth / text alone ${fmtRatio(growth / text)})` : fmtRatio(growth / retained)} |`)
    if (t.name === 'seph-blog1') {
      const measured = Number.isNaN(retained) ? `heap growth ${fmtBytes(growth)}; op log unknown (the store has no \`memoryStats()\`), text alone ${fmtBytes(text)} (${fmtRatio(growth / text)})` : `heap growth ${fmtBytes(growth)} = ${fmtRatio(growth / retained)} (text ${fmtBytes(text)} + op log ${fmtBytes(opLog)}; after the client closed ${fmtRatio(closed / retained)})`
      target('10', "server memory after seph-blog1 ≤ 2× (final text + retained op log)", measured, Number.isNaN(retained) ? undefined : growth <= 2 * retained)
    }
  }
  out()
}

// ---- 2. local apply

async function localApplySection(traces: Trace[]): Promise<void> {
  const systems: LocalSystem[] = ['statecraft', 'ot-text-unicode', 'yjs']
  const section: Record<string, Record<string, Figure>> = {}
  /** Statecraft's patches/s until the value is endContent, before its deferred work (by trace). */
  const appliedOnly: Record<string, number[]> = {}
  // A system whose runs on a trace have taken 30 s stops there (Statecraft on seph-blog1 took
  // ~1 min a run before the client stopped composing per keystroke).
  const budgetMs = Number(process.env.BENCH_LOCAL_BUDGET_S ?? 30) * 1000
  for (const trace of traces) {
    const applied: number[] = (appliedOnly[trace.name] = [])
    section[trace.name] = await interleaved(
      `local ${trace.name}`,
      systems,
      runsFor(trace),
      async s => {
        const r = await localApply(s, trace, MIN_RUN_MS)
        if (s === 'statecraft') applied.push(r.applied)
        return { value: r.rate, perCpuSecond: r.perCpuSecond }
      },
      budgetMs,
    )
  }
  results.localApply = { ...section, statecraftAppliedOnly: appliedOnly }
  out('### 2. Local apply, no network (patches/s; higher is better)')
  out()
  out(`Statecraft: \`db.text\` on an offline client (memory cache), timed until its value is \`endContent\` and the work the client defers is done (\`whenPersisted()\`: every write in its cache), which is the figure compared; the next column stops the clock at the value. Raw ot-text-unicode and Yjs \`Y.Text\` defer nothing. A run applies the trace pass after pass (each from scratch) until it has taken ${MIN_RUN_MS / 1000} s, at least once.`)
  out()
  out('| trace | Statecraft `db.text`, incl. deferred work | Statecraft, value only | raw ot-text-unicode | Yjs `Y.Text` | Statecraft / raw OT | Statecraft / Yjs |')
  out('|---|---:|---:|---:|---:|---:|---:|')
  for (const t of traces) {
    const f = section[t.name] as Record<LocalSystem, Figure>
    const runs = f.statecraft.runs.length
    const base = f['ot-text-unicode'].runs.length
    const vsOT = ratioOf(`local ${t.name} / raw OT`, f.statecraft, f['ot-text-unicode'])
    const vsYjs = ratioOf(`local ${t.name} / Yjs`, f.statecraft, f.yjs)
    out(`| ${t.name} (${runs === base ? nRuns(runs) : `Statecraft ${nRuns(runs)}, others ${base}`}) | ${cell(f.statecraft, fmtInt)} | ${f.statecraft.error === undefined ? fmtInt(median(appliedOnly[t.name] ?? [])) : '—'} | ${cell(f['ot-text-unicode'], fmtInt)} | ${cell(f.yjs, fmtInt)} | ${fmtRatio(vsOT)} | ${fmtRatio(vsYjs)} |`)
    ratioTarget('9', `local apply ${t.name} ≥ 0.5× raw ot-text-unicode`, vsOT, '≥', 0.5)
    ratioTarget('10', `local apply ${t.name}: \`db.text\` ≥ Yjs \`Y.Text\``, vsYjs, '≥', 1)
  }
  out()
  cpuTable('local', traces, ['raw OT', 'Yjs'])
}

// ---- 3. fan-out

/**
 * Three sides in every run, their writes alternating: Statecraft's server on LevelDB (its default,
 * each write on disk before anyone sees it: the issue's figure), the same server on its memory
 * store (as ShareDB runs on its in-memory db: like for like), and ShareDB; and, taking its turn
 * among them, one fdatasync of a small append on this disk, so that the table shows what the
 * durable commit must cost here at the fan-out's pace.
 */
type FanoutSide = 'statecraft' | 'statecraftMemory' | 'sharedb'
const FANOUT_SIDES: FanoutSide[] = ['statecraft', 'statecraftMemory', 'sharedb']

async function fanoutSection(): Promise<void> {
  const writes = Number(process.env.BENCH_WRITES ?? 200)
  type Row = Record<FanoutSide, { p50: Figure; p99: Figure }> & { fsync: { p50: Figure; p99: Figure } }
  const section: Record<string, Row> = {}
  const servers = { statecraft: await startServer('statecraft'), statecraftMemory: await startServer('statecraft', { store: 'memory' }), sharedb: await startServer('sharedb') }
  try {
    for (const n of [1, 10, 100]) {
      const per = Object.fromEntries([...FANOUT_SIDES, 'fsync'].map(s => [s, { p50: [] as number[], p99: [] as number[] }])) as Record<FanoutSide | 'fsync', { p50: number[]; p99: number[] }>
      let error: string | undefined
      for (let r = 0; r < SHORT_RUNS && error === undefined; r++) {
        collect()
        try {
          const d = await guarded(() =>
            fanout(
              { statecraft: { system: 'statecraft', url: servers.statecraft.url }, statecraftMemory: { system: 'statecraft', url: servers.statecraftMemory.url }, sharedb: { system: 'sharedb', url: servers.sharedb.url } },
              n,
              writes,
              `fanout-${n}-${r}`,
              { diskProbeDir: tmpdir() },
            ),
          )
          for (const s of FANOUT_SIDES) {
            per[s].p50.push(d[s].p50)
            per[s].p99.push(d[s].p99)
            note(`fan-out ${n} ${s} run ${r + 1}: median ${d[s].p50.toFixed(2)} ms, p99 ${d[s].p99.toFixed(2)} ms (${d[s].samples} deliveries)`)
          }
          if (d.disk !== undefined) {
            per.fsync.p50.push(d.disk.p50)
            per.fsync.p99.push(d.disk.p99)
            note(`fan-out ${n} fdatasync run ${r + 1}: median ${d.disk.p50.toFixed(3)} ms`)
          }
        } catch (e) {
          error = e instanceof Error ? e.message : String(e)
          note(`fan-out ${n} FAILED: ${error}`)
        }
      }
      const fig = (xs: number[]): Figure => (error === undefined ? { median: median(xs), runs: xs } : { median: NaN, runs: xs, error })
      const both = (k: FanoutSide | 'fsync'): { p50: Figure; p99: Figure } => ({ p50: fig(per[k].p50), p99: fig(per[k].p99) })
      section[n] = { statecraft: both('statecraft'), statecraftMemory: both('statecraftMemory'), sharedb: both('sharedb'), fsync: both('fsync') }
    }
  } finally {
    for (const s of Object.values(servers)) await s.stop()
  }
  results.fanout = { writesPerRun: writes, bySubscribers: section }
  out(`### 3. Fan-out: write on client A → arrival at each subscribed client (${writes} writes a run on each system, the systems' writes alternating, ${SHORT_RUNS} runs, every delivery counted; lower is better)`)
  out()
  out('Statecraft as it ships: its server on LevelDB, where a write is on disk (fdatasync) before any subscriber sees it; ShareDB on its in-memory db.')
  out()
  out('| subscribers | Statecraft median | ShareDB median | Statecraft / ShareDB | Statecraft p99 | ShareDB p99 |')
  out('|---:|---:|---:|---:|---:|---:|')
  for (const n of [1, 10, 100]) {
    const f = section[n] as Row
    const r = ratioOf(`fan-out ${n} median / ShareDB`, f.statecraft.p50, f.sharedb.p50)
    out(`| ${n} | ${cell(f.statecraft.p50, fmtMs)} | ${cell(f.sharedb.p50, fmtMs)} | ${fmtRatio(r)} | ${cell(f.statecraft.p99, fmtMs)} | ${cell(f.sharedb.p99, fmtMs)} |`)
    if (n === 100) ratioTarget('9', "fan-out median at 100 subscribers ≤ ShareDB's (Statecraft / ShareDB ≤ 1×)", r, '≤', 1)
  }
  out()
  out("Like for like, and the disk's share (measured in the same runs, writes alternating with the above; not the issue's figures): the same Statecraft server on its memory store, as ShareDB runs on its in-memory db; how much later a write reaches a subscriber on LevelDB than on memory (the durable commit, median of the per-run differences); and one fdatasync of a 300-byte append on this disk, on the calling thread, taking its turn among the writes so that it is spaced as they are (the least a write durable before anyone sees it can cost here).")
  out()
  out('| subscribers | Statecraft on memory, median | Statecraft on memory / ShareDB | Statecraft on LevelDB − on memory | one fdatasync, median | fdatasync p99 |')
  out('|---:|---:|---:|---:|---:|---:|')
  for (const n of [1, 10, 100]) {
    const f = section[n] as Row
    const r = ratioOf(`fan-out ${n} median, Statecraft on memory / ShareDB`, f.statecraftMemory.p50, f.sharedb.p50)
    const gaps = f.statecraft.p50.runs.map((x, i) => x - (f.statecraftMemory.p50.runs[i] ?? NaN))
    const gap = f.statecraft.p50.error === undefined && gaps.length > 0 ? median(gaps) : NaN
    out(`| ${n} | ${cell(f.statecraftMemory.p50, fmtMs)} | ${fmtRatio(r)} | ${Number.isFinite(gap) ? fmtMs(gap) : '—'} | ${cell(f.fsync.p50, fmtMs)} | ${cell(f.fsync.p99, fmtMs)} |`)
  }
  out()
}

// ---- 4. memory

async function memorySection(): Promise<void> {
  const clients = Number(process.env.BENCH_CLIENTS ?? 1000)
  const section: Record<string, Figure> = {}
  for (const s of SYSTEMS) {
    // One run: heap after gc is steady, and 1,000 clients take a while to connect.
    section[s] = await figure(`memory ${s}`, 1, async () => (await heapPerClient(s, clients)).perClient)
  }
  results.memory = { clients, perClientBytes: section }
  out(`### 4. Server heap per idle connected client with one subscription (${fmtInt(clients)} clients; heapUsed after gc; lower is better)`)
  out()
  out('| Statecraft | ShareDB | Yjs (y-websocket server) | Statecraft / ShareDB | Statecraft / Yjs |')
  out('|---:|---:|---:|---:|---:|')
  const f = section as Record<System, Figure>
  out(`| ${cell(f.statecraft, fmtBytes)} | ${cell(f.sharedb, fmtBytes)} | ${cell(f.yjs, fmtBytes)} | ${ratio('memory / ShareDB', f.statecraft, f.sharedb)} | ${ratio('memory / Yjs', f.statecraft, f.yjs)} |`)
  out()
}

// ---- 5. cold start

async function coldStartSection(): Promise<void> {
  const cache = await makeColdCache()
  const offline: ColdStart[] = []
  const online: ColdStart[] = []
  let error: string | undefined
  const server = await startServer('statecraft')
  try {
    await seedServer(server)
    for (let r = 0; r < RUNS; r++) {
      offline.push(await coldStartOffline(cache.dir))
      online.push(await coldStartOnline(server))
      note(`cold start run ${r + 1}: offline ${JSON.stringify(offline.at(-1))}, online ${JSON.stringify(online.at(-1))}`)
    }
  } catch (e) {
    error = e instanceof Error ? e.message : String(e)
    note(`cold start FAILED: ${error}`)
  } finally {
    await server.stop()
    cache.remove()
  }
  const med = (xs: ColdStart[], k: keyof ColdStart): number => median(xs.map(x => x[k]))
  results.coldStart = { docs: COLD_DOCS, offline, online, ...(error === undefined ? {} : { error }) }
  out(`### 5. Cold start: \`db.query(prefix('items/')).subscribe\` on a client whose LevelDB cache holds ${fmtInt(COLD_DOCS)} docs (ms from createClient)`)
  out()
  if (error !== undefined) out(`failed: ${error}`)
  out('| | cache loaded | first rows | all rows | rows shown |')
  out('|---|---:|---:|---:|---:|')
  const row = (name: string, xs: ColdStart[]): string => {
    const shown = med(xs, 'rowsShown')
    const first = med(xs, 'firstRows')
    return `| ${name} | ${fmtMs(med(xs, 'cacheLoaded'))} | ${Number.isNaN(first) ? 'none' : fmtMs(first)} | ${Number.isNaN(med(xs, 'allRows')) ? 'never' : fmtMs(med(xs, 'allRows'))} | ${fmtInt(shown)} |`
  }
  out(row('offline, from the cache', offline))
  out(row('online, empty cache, server holds the docs', online))
  out()
}

// ---- 6. many subscriptions

async function manySubsSection(): Promise<void> {
  const servers = { statecraft: await startServer('statecraft'), sharedb: await startServer('sharedb') }
  const ms = { statecraft: [] as number[], sharedb: [] as number[] }
  let error: string | undefined
  try {
    for (let r = 0; r < MANY_RUNS && error === undefined; r++) {
      collect()
      try {
        const run = await guarded(() => manySubscriptions({ statecraft: servers.statecraft.url, sharedb: servers.sharedb.url }, r, MANY_ROUNDS))
        ms.statecraft.push(...run.statecraft)
        ms.sharedb.push(...run.sharedb)
        note(`many subscriptions run ${r + 1}: Statecraft ${run.statecraft.map(x => x.toFixed(1)).join(' ')} ms, ShareDB ${run.sharedb.map(x => x.toFixed(1)).join(' ')} ms`)
      } catch (e) {
        error = e instanceof Error ? e.message : String(e)
        note(`many subscriptions FAILED: ${error}`)
      }
    }
  } finally {
    await servers.statecraft.stop()
    await servers.sharedb.stop()
  }
  const fig = (xs: number[]): Figure => (error === undefined ? { median: median(xs), runs: xs } : { median: NaN, runs: xs, error })
  const section = { statecraft: fig(ms.statecraft), sharedb: fig(ms.sharedb) }
  results.manySubscriptions = { subscriptions: SUBS, updates: UPDATES, runs: MANY_RUNS, roundsPerRun: MANY_ROUNDS, ms: section }
  out(`### 6. One client subscribed to ${fmtInt(SUBS)} docs receives ${UPDATES} remote updates spread over them: ms until every handler ran (${MANY_RUNS} runs × ${MANY_ROUNDS} rounds, the two systems' rounds alternating; lower is better)`)
  out()
  out('| Statecraft | ShareDB | Statecraft / ShareDB |')
  out('|---:|---:|---:|')
  out(`| ${cell(section.statecraft, fmtMs)} | ${cell(section.sharedb, fmtMs)} | ${ratio('many subscriptions / ShareDB', section.statecraft, section.sharedb)} |`)
  out()
}

// ---- 7. large document

async function largeDocSection(): Promise<void> {
  const typingMs = Number(process.env.BENCH_TYPING_MS ?? 3000)
  const servers = { statecraft: await startServer('statecraft'), sharedb: await startServer('sharedb') }
  let section: Record<string, Figure>
  try {
    section = await interleaved('large doc', ['statecraft', 'sharedb'] as const, RUNS, (s, r) => largeDocEdits(s, servers[s], r, typingMs))
  } finally {
    await servers.statecraft.stop()
    await servers.sharedb.stop()
  }
  results.largeDocument = { bytes: 1024 * 1024, typingMs, editsPerSecond: section }
  out(`### 7. Large document: 1-character edits/s on a 1 MB text through the full stack (${typingMs / 1000} s of typing at random places, one edit per event-loop turn, until the server holds the text; higher is better)`)
  out()
  out('| Statecraft | ShareDB | Statecraft / ShareDB |')
  out('|---:|---:|---:|')
  const f = section as Record<'statecraft' | 'sharedb', Figure>
  out(`| ${cell(f.statecraft, fmtInt)} | ${cell(f.sharedb, fmtInt)} | ${ratio('large doc / ShareDB', f.statecraft, f.sharedb)} |`)
  out()
}

// ---- main

// BENCH_RESULTS=path: write the results there instead (development runs that keep results.json).
const file = process.env.BENCH_RESULTS ?? fileURLToPath(new URL('../results.json', import.meta.url))
/** BENCH_* settings that change what is measured (all but where results go, pinning and profiling). */
const overrides = Object.keys(process.env).filter(k => k.startsWith('BENCH_') && !['BENCH_RESULTS', 'BENCH_PIN', 'BENCH_SERVER_PROF'].includes(k))
/** A full run: every section with the default runs, the figures the targets are judged on. */
const fullRun = overrides.length === 0

/** The ratios of the previous full run (bench/results.json before this run overwrites it). */
function previousFullRun(): { date: string; ratios: Record<string, number> } | undefined {
  if (!existsSync(file)) return undefined
  try {
    const prev = JSON.parse(readFileSync(file, 'utf8')) as { date?: string; full?: boolean; sectionSeconds?: Record<string, number>; ratios?: Record<string, number> }
    // Files from before `full` was recorded: a full run timed all seven sections.
    const full = prev.full ?? Object.keys(prev.sectionSeconds ?? {}).length === 7
    return full && prev.ratios !== undefined ? { date: prev.date ?? 'unknown', ratios: prev.ratios } : undefined
  } catch {
    return undefined
  }
}

/** Issue 9's rerun target, against the previous full run: every ratio within ±20%. */
function reproducibilityTarget(prev: { date: string; ratios: Record<string, number> } | undefined): void {
  const what = 'reproducible: every ratio within ±20% of the previous full run'
  if (!fullRun) return target('9', what, `not judged (not a full run: ${overrides.join(', ')} set)`, undefined)
  if (prev === undefined) return target('9', what, 'not judged (no previous full run in results.json)', undefined)
  const moves = Object.entries(ratios).flatMap(([k, v]) => {
    const p = prev.ratios[k]
    return p === undefined || p <= 0 ? [] : [{ k, move: v / p - 1 }]
  })
  const within = moves.filter(m => Math.abs(m.move) <= 0.2).length
  const worst = moves.reduce<{ k: string; move: number } | undefined>((a, m) => (a === undefined || Math.abs(m.move) > Math.abs(a.move) ? m : a), undefined)
  const pct = (x: number): string => `${x >= 0 ? '+' : ''}${(x * 100).toFixed(0)}%`
  target('9', what, `${within} of ${moves.length} ratios within ±20% of the run of ${prev.date.slice(0, 16).replace('T', ' ')} UTC${worst === undefined ? '' : ` (largest move ${pct(worst.move)}: ${worst.k})`}`, moves.length === 0 ? undefined : within === moves.length)
}

// y-websocket's provider adds a process 'exit' listener per provider (section 4 opens 1,000).
process.setMaxListeners(0)
pinBenchProcess()
const previous = previousFullRun()
const started = performance.now()
const machine = { cores: cpus().length, cpu: cpus()[0]?.model ?? 'unknown', node: process.version, platform: `${process.platform}-${process.arch}`, loadavg: loadavg().map(x => Number(x.toFixed(2))) }
const pinning = PINNING === undefined ? 'not pinned to cores (BENCH_PIN=1 pins them with `taskset`)' : `pinned with \`taskset\`: this process (the clients) on core ${PINNING.bench}, the server processes on core ${PINNING.server} (the machine's other processes still share both)`
out(`## Statecraft vs ShareDB vs Yjs — ${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC`)
out()
out(`Machine: ${machine.cores} cores (${machine.cpu}), Node ${machine.node}, ${machine.platform}, load average at start ${machine.loadavg.join(' / ')}. Servers in child processes on 127.0.0.1, ${pinning}. Each figure is the median of ${RUNS} runs unless marked (short traces: ${SHORT_RUNS}), runs of the systems interleaved, a gc before each; each ratio is the median of the per-run ratios (Statecraft run i / other run i).`)
if (!fullRun) out(`**Not a full run** (${overrides.map(k => `${k}=${process.env[k] ?? ''}`).join(', ')}): the targets block judges only what this run measured.`)
out()
const traces = wanted(1) || wanted(2) ? traceNames.map(loadTrace) : []
if (traceNames.length < requestedTraces.length && (wanted(1) || wanted(2))) out(`**Traces missing from ../shared/traces, skipped: ${requestedTraces.filter(t => !hasTrace(t)).join(', ')}**`)
const sectionSeconds: Record<string, number> = {}
const sections: [number, string, () => Promise<void>][] = [
  [1, 'trace replay', () => traceReplay(traces)],
  [2, 'local apply', () => localApplySection(traces)],
  [3, 'fan-out', fanoutSection],
  [4, 'memory', memorySection],
  [5, 'cold start', coldStartSection],
  [6, 'many subscriptions', manySubsSection],
  [7, 'large document', largeDocSection],
]
for (const [n, name, run] of sections) {
  if (!wanted(n)) continue
  const t = performance.now()
  await run()
  sectionSeconds[name] = Math.round((performance.now() - t) / 1000)
}
const seconds = (performance.now() - started) / 1000
const loadEnd = loadavg().map(x => Number(x.toFixed(2)))
out(`Whole run: ${seconds.toFixed(0)} s (${Object.entries(sectionSeconds).map(([k, v]) => `${k} ${v} s`).join(', ')}); load average at the end ${loadEnd.join(' / ')}.`)
out()
target('9', 'this table end to end in under 10 minutes on 2 cores (the root `pnpm bench` adds the package benches: time it)', `${seconds.toFixed(0)} s on ${machine.cores} cores${fullRun ? '' : ` (not a full run: ${overrides.join(', ')} set)`}`, fullRun ? seconds < 600 : undefined)
reproducibilityTarget(previous)
out('### Targets (issues 9 and 10)')
out()
out('| issue | target | measured | holds? |')
out('|---|---|---|---|')
for (const t of targets) out(`| ${t.issue} | ${t.target} | ${t.measured} | ${t.holds === undefined ? 'not measured' : t.holds ? 'yes' : '**no**'} |`)
const held = targets.filter(t => t.holds === true).length
const missed = targets.filter(t => t.holds === false).length
out()
out(`${held} of ${targets.length} targets hold, ${missed} missed, ${targets.length - held - missed} not measured in this run.`)
writeFileSync(file, `${JSON.stringify({ date: new Date().toISOString(), full: fullRun, overrides: Object.fromEntries(overrides.map(k => [k, process.env[k]])), machine: { ...machine, loadavgEnd: loadEnd, pinning: PINNING ?? null }, runs: RUNS, shortRuns: SHORT_RUNS, seconds: Math.round(seconds), sectionSeconds, ratios, ratiosOfMedians, cpuRatios, targets, sections: results, table: lines.join('\n') }, null, 2)}\n`)
console.error(`wrote ${file}`)
