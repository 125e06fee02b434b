// Runs an in-process double (doubles/appcmd-core.ts, doubles/icacls-core.ts) as a program, for what cannot
// call it in process: the bundle (dist/index.js), the IIS stand-in and the double's own process tests.
// Usage: node double-shim.mjs appcmd|icacls <argv...>
//
// Plain node cannot run TypeScript here, so the doubles' sources are transpiled once into a folder named after
// their content hash under node_modules/.cache (inside node_modules, so @xmldom/xmldom resolves from there).
import { createHash } from 'node:crypto'
import fs from 'node:fs'
import path from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { afterHookedCall, beforeHookedCall } from './kill-hook.mjs'

const HERE = path.dirname(fileURLToPath(import.meta.url))
const SOURCES = path.join(HERE, 'doubles')
const CACHE = path.join(HERE, '..', '..', 'node_modules', '.cache', 'iis-doubles')

async function compiledDoubles() {
  const files = fs
    .readdirSync(SOURCES)
    .filter(f => f.endsWith('.ts'))
    .sort()
  const hash = createHash('sha256')
  for (const f of files)
    hash
      .update(`${f}\0`)
      .update(fs.readFileSync(path.join(SOURCES, f)))
      .update('\0')
  const dir = path.join(CACHE, hash.digest('hex').slice(0, 16))
  if (fs.existsSync(dir)) return dir
  const { default: ts } = await import('typescript')
  // Written aside and renamed, so a concurrent call never imports a half-written folder.
  const temp = `${dir}.tmp-${process.pid}-${Date.now()}`
  fs.mkdirSync(temp, { recursive: true })
  for (const f of files) {
    const source = fs.readFileSync(path.join(SOURCES, f), 'utf8')
    const options = { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022 }
    fs.writeFileSync(path.join(temp, f.replace(/\.ts$/, '.js')), ts.transpileModule(source, { compilerOptions: options }).outputText)
  }
  fs.writeFileSync(path.join(temp, 'package.json'), '{ "type": "module" }\n')
  try {
    fs.renameSync(temp, dir)
  } catch (error) {
    fs.rmSync(temp, { recursive: true, force: true })
    if (!fs.existsSync(dir)) throw error
  }
  return dir
}

const [name, ...argv] = process.argv.slice(2)
const dir = await compiledDoubles()
// appcmd: every verb but list writes (doubles/appcmd-core.ts); icacls: a call that changes an ACL.
const mutating =
  name === 'appcmd'
    ? (argv[0] ?? '').toLowerCase() !== 'list'
    : argv.some(a => /^\/(grant|remove|deny|reset|setowner|inheritance)/i.test(a))
if (mutating && beforeHookedCall(`${name} ${argv.join(' ')}`)) process.exit(137)
let answer
if (name === 'appcmd') {
  const { runAppcmd } = await import(pathToFileURL(path.join(dir, 'appcmd-core.js')).href)
  answer = runAppcmd(argv, process.env, path.join(HERE, 'applicationHost.seed.config'))
} else if (name === 'icacls') {
  const { runIcacls } = await import(pathToFileURL(path.join(dir, 'icacls-core.js')).href)
  answer = runIcacls(argv, process.env)
} else {
  process.stderr.write(`double-shim: unknown double "${name}"\n`)
  process.exit(2)
}
// The double has written its state: the action may die now, before it reads the answer (kill-hook.mjs).
if (mutating) afterHookedCall()
if (answer.stdout) fs.writeSync(1, answer.stdout)
if (answer.stderr) fs.writeSync(2, answer.stderr)
// A process reports the Windows exit code modulo 256 on Linux (1168 → 144), as the product expects.
process.exit(answer.exitCode)
