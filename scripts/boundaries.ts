// Package boundaries: what each package's source may import. Run by `npm test`; core importing
// anything platform-specific (node:*, the DOM's packages, ws, React) fails the run.
import { readdirSync, readFileSync, statSync } from 'node:fs'
import { join, relative } from 'node:path'
import { builtinModules } from 'node:module'

export interface Rule {
  /** Bare specifiers (package names) this package may import; relative imports are always allowed. */
  allow?: string[]
  /** Also refuse Node built-ins (code that must run in browsers). */
  browser?: boolean
}

/** The table of DESIGN.md. Packages not named here may import anything. */
export const RULES: Record<string, Rule> = {
  core: { allow: ['ot-json1', 'ot-text-unicode'], browser: true },
  protocol: { browser: true },
  rules: { allow: ['@statecraft/core', 'zod'], browser: true },
  client: { browser: true },
  idb: { browser: true },
  react: { allow: ['react', '@statecraft/client', '@statecraft/core'], browser: true },
}

const IMPORT_RE = /(?:^|[\s;])(?:import|export)\s[^'"`]*?from\s*['"]([^'"]+)['"]|(?:^|[\s;(])import\s*\(\s*['"]([^'"]+)['"]\s*\)|(?:^|[\s;])import\s*['"]([^'"]+)['"]/gm

/** The module specifiers a source file imports (static, re-export, side-effect and literal dynamic imports). */
export function importsOf(source: string): string[] {
  const out: string[] = []
  for (const m of source.replaceAll(/\/\*[\s\S]*?\*\/|\/\/.*$/gm, '').matchAll(IMPORT_RE)) {
    const spec = m[1] ?? m[2] ?? m[3]
    if (spec !== undefined) out.push(spec)
  }
  return out
}

const packageName = (spec: string): string => {
  const parts = spec.split('/')
  return spec.startsWith('@') ? parts.slice(0, 2).join('/') : (parts[0] as string)
}

const isBuiltin = (spec: string): boolean => spec.startsWith('node:') || builtinModules.includes(packageName(spec))

/** Why `spec` may not be imported under `rule`, or undefined when it may. */
export function violation(rule: Rule, spec: string): string | undefined {
  if (spec.startsWith('.')) return undefined
  if (rule.browser === true && isBuiltin(spec)) return `imports the Node built-in ${spec}, but must run in browsers`
  if (rule.allow !== undefined && !isBuiltin(spec) && !rule.allow.includes(packageName(spec))) {
    return `imports ${spec}; it may import only ${rule.allow.join(', ')}`
  }
  if (rule.allow !== undefined && isBuiltin(spec)) return `imports the Node built-in ${spec}`
  return undefined
}

function sourceFiles(dir: string): string[] {
  const out: string[] = []
  for (const name of readdirSync(dir)) {
    const p = join(dir, name)
    if (statSync(p).isDirectory()) out.push(...sourceFiles(p))
    else if (/\.(ts|tsx|mts|js|mjs)$/.test(name)) out.push(p)
  }
  return out
}

/** Every boundary violation under `packagesDir` (packages/<name>/src/**), as readable lines. */
export function checkBoundaries(packagesDir: string, rules: Record<string, Rule> = RULES): string[] {
  const problems: string[] = []
  for (const [pkg, rule] of Object.entries(rules)) {
    const src = join(packagesDir, pkg, 'src')
    let files: string[]
    try {
      files = sourceFiles(src)
    } catch {
      continue
    }
    for (const f of files) {
      for (const spec of importsOf(readFileSync(f, 'utf8'))) {
        const why = violation(rule, spec)
        if (why !== undefined) problems.push(`${relative(join(packagesDir, '..'), f)} ${why}`)
      }
    }
  }
  return problems
}
