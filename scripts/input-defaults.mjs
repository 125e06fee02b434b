// Generates src/inputs/defaults.ts from action.yml, so the parser's defaults are action.yml's and nothing else.
// `node scripts/input-defaults.mjs` rewrites the module; `--check` exits 1 when it is stale.
// The exported functions let a test compare the module with a fresh generation.
import { readFileSync, writeFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { parse } from 'yaml'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')
export const DEFAULTS_MODULE = join('src', 'inputs', 'defaults.ts')

/** A TypeScript single-quoted string literal. */
function literal(text) {
  return `'${text.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`
}

function key(name) {
  return /^[A-Za-z_$][\w$]*$/.test(name) ? name : literal(name)
}

/** The module's text: every input of action.yml, its default or '' for one without (a required input). */
export function renderDefaults(actionYaml) {
  const inputs = parse(actionYaml).inputs ?? {}
  const rows = Object.entries(inputs).map(([name, input]) => {
    const value = input.default === undefined || input.default === null ? '' : String(input.default)
    return `  ${key(name)}: ${literal(value)}`
  })
  return [
    '// Generated from action.yml by `npm run docs` (scripts/input-defaults.mjs); do not edit.',
    '// __tests__/input-defaults.test.ts fails when this module and action.yml differ.',
    '',
    "/** Every input of action.yml with its default ('' where action.yml has none). */",
    'export const INPUT_DEFAULTS = {',
    rows.join(',\n'),
    '} as const',
    '',
    'export type InputName = keyof typeof INPUT_DEFAULTS',
    ''
  ].join('\n')
}

export function defaultsFiles(dir = root) {
  const modulePath = join(dir, DEFAULTS_MODULE)
  let current = ''
  try {
    current = readFileSync(modulePath, 'utf8')
  } catch {
    // A missing module is stale like a different one.
  }
  return { modulePath, current, actionYaml: readFileSync(join(dir, 'action.yml'), 'utf8') }
}

/** Writes the module, or with check only reports; returns whether it was already fresh. */
export function syncDefaults({ check = false, dir = root } = {}) {
  const { modulePath, current, actionYaml } = defaultsFiles(dir)
  const fresh = renderDefaults(actionYaml)
  if (fresh === current) return true
  if (!check) writeFileSync(modulePath, fresh)
  return false
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const check = process.argv.includes('--check')
  const fresh = syncDefaults({ check })
  if (check && !fresh) {
    console.error(`${DEFAULTS_MODULE} differs from action.yml: run \`npm run docs\`.`)
    process.exit(1)
  }
  console.log(fresh ? `${DEFAULTS_MODULE} already matches action.yml` : `${DEFAULTS_MODULE} regenerated from action.yml`)
}
