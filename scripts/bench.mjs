// npm run bench: wall time of deploying examples/hello on this Linux harness, through the bundled action
// (node dist/index.js) with real Python, the appcmd and icacls doubles on PATH and the IIS stand-in answering verify:
//   first   a first deploy into a fresh server and deploy-root (venv, pip, collectstatic, preflight, apply, verify)
//   no-op   the same inputs again with a new release id (nothing to change)
//   naive   what a hand-written setup script does on every run: a fresh venv, pip install -r + wfastcgi,
//           collectstatic, every appcmd add/set (duplicates' 183 ignored) and the icacls grants; no verify
// Each runs 3 times; the table shows medians and appcmd call counts, and the goals say PASS or MISS.
// Timings are this machine's: each call of a double starts node (~80 ms here); appcmd.exe on a server differs.
import { execFileSync, spawn, spawnSync } from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { performance } from 'node:perf_hooks'
import { startIisStandin } from '../__tests__/support/iis-standin.mjs'

const ROOT = path.resolve(import.meta.dirname, '..')
const SUPPORT = path.join(ROOT, '__tests__', 'support')
const EXAMPLE = path.join(ROOT, 'examples', 'hello')
const PYTHON = '/usr/bin/python3'
const SITE = 'Default Web Site'
const POOL = 'DefaultWebSite-app'
const RUNS = Number(process.env.BENCH_RUNS ?? 3)

if (!fs.existsSync(path.join(ROOT, 'dist', 'index.js'))) {
  console.error('dist/index.js is missing: run npm run bundle first')
  process.exit(1)
}

const work = fs.mkdtempSync(path.join(os.tmpdir(), 'django-iis-deploy-bench-'))
const wheelhouse = path.join(work, 'wheelhouse')
execFileSync(PYTHON, [path.join(ROOT, 'scripts', 'wfastcgi-standin.py'), wheelhouse], { stdio: 'ignore' })

/** A fresh fake server, as __tests__/support/iis-sandbox.ts builds it: state file, call logs, doubles on PATH. */
function sandbox(name) {
  const dir = path.join(work, name)
  const bin = path.join(dir, 'bin')
  const configPath = path.join(dir, 'inetsrv', 'config', 'applicationHost.config')
  fs.mkdirSync(bin, { recursive: true })
  fs.mkdirSync(path.dirname(configPath), { recursive: true })
  fs.copyFileSync(path.join(SUPPORT, 'applicationHost.seed.config'), configPath)
  for (const tool of ['appcmd', 'icacls']) fs.symlinkSync(path.join(SUPPORT, tool), path.join(bin, tool))
  const appcmdLog = path.join(dir, 'appcmd-calls.jsonl')
  const icaclsLog = path.join(dir, 'icacls-calls.jsonl')
  return {
    dir,
    configPath,
    env: {
      PATH: `${bin}${path.delimiter}${process.env.PATH ?? ''}`,
      APPCMD_DOUBLE_CONFIG: configPath,
      APPCMD_DOUBLE_BACKUPS: path.join(dir, 'inetsrv', 'backup'),
      APPCMD_DOUBLE_LOG: appcmdLog,
      ICACLS_DOUBLE_LOG: icaclsLog
    },
    counts() {
      const lines = file => (fs.existsSync(file) ? fs.readFileSync(file, 'utf8').split('\n').filter(Boolean) : [])
      const calls = lines(appcmdLog).map(l => JSON.parse(l))
      const writes = calls.filter(c => c.mutating).length
      return { reads: calls.length - writes, writes, icacls: lines(icaclsLog).length }
    },
    reset() {
      fs.rmSync(appcmdLog, { force: true })
      fs.rmSync(icaclsLog, { force: true })
    }
  }
}

function baseEnv(box) {
  const env = {}
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('INPUT_') && !k.startsWith('GITHUB_')) env[k] = v
  return { ...env, ...box.env }
}

/** One run of the bundled action; asynchronous, since the stand-in answering verify lives in this process. */
async function deploy(box, standin, deployRoot, releaseId) {
  const summary = path.join(work, `summary-${path.basename(box.dir)}-${releaseId}.md`)
  const env = { ...baseEnv(box), RUNNER_TEMP: work, GITHUB_STEP_SUMMARY: summary }
  fs.writeFileSync(summary, '')
  const inputs = {
    mode: 'deploy',
    'app-dir': EXAMPLE,
    'deploy-root': deployRoot,
    'app-path': '/app',
    'release-id': releaseId,
    python: PYTHON,
    'venv-system-site-packages': 'true',
    'pip-args': `--no-index --find-links ${wheelhouse}`,
    env: 'DJANGO_ALLOWED_HOSTS=127.0.0.1,localhost',
    appcmd: 'appcmd',
    icacls: 'icacls',
    'verify-url': `${standin.url}/app/`,
    'verify-body': 'Hello from Django',
    'output-dir': path.join(work, `output-${path.basename(box.dir)}-${releaseId}`),
    // The bench's own server lock, so it never waits on (or holds up) tests and demos of other checkouts.
    'lock-dir': path.join(work, 'server-lock')
  }
  for (const [name, value] of Object.entries(inputs)) env[`INPUT_${name.toUpperCase()}`] = value
  const started = performance.now()
  const child = spawn(process.execPath, [path.join(ROOT, 'dist', 'index.js')], { env, cwd: work, stdio: ['ignore', 'pipe', 'pipe'] })
  let out = ''
  child.stdout.on('data', d => (out += d))
  child.stderr.on('data', d => (out += d))
  const code = await new Promise(resolve => child.once('close', resolve))
  const ms = performance.now() - started
  if (code !== 0) throw new Error(`deploy ${releaseId} failed (exit ${code}):\n${out.slice(-4000)}`)
  return { ms, summary: fs.readFileSync(summary, 'utf8') }
}

/** The hand-written script: everything, every time, on the server that already has the app. */
function naive(box, dir) {
  const started = performance.now()
  const run = (program, args, opts = {}) => {
    const r = spawnSync(program, args, { env: baseEnv(box), encoding: 'utf8', ...opts })
    return { code: r.status, out: `${r.stdout}${r.stderr}` }
  }
  const must = (program, args, opts) => {
    const r = run(program, args, opts)
    if (r.code !== 0) throw new Error(`naive: ${program} ${args.join(' ')} failed (${r.code}): ${r.out}`)
  }
  // appcmd: a duplicate (183, seen as 183 on Linux) only means an earlier run already added it.
  const appcmd = (...args) => {
    const r = run('appcmd', args)
    if (r.code !== 0 && r.code !== 183) throw new Error(`naive: appcmd ${args.join(' ')} failed (${r.code}): ${r.out}`)
  }
  const venv = path.join(dir, 'venv')
  const app = path.join(dir, 'app')
  const py = path.join(venv, 'bin', 'python')
  fs.rmSync(venv, { recursive: true, force: true })
  must(PYTHON, ['-m', 'venv', '--system-site-packages', venv])
  must(py, [
    '-m',
    'pip',
    'install',
    '--disable-pip-version-check',
    '--no-index',
    '--find-links',
    wheelhouse,
    '-r',
    path.join(EXAMPLE, 'requirements.txt'),
    'wfastcgi'
  ])
  fs.rmSync(app, { recursive: true, force: true })
  fs.cpSync(EXAMPLE, app, { recursive: true })
  must(py, ['manage.py', 'collectstatic', '--noinput'], { cwd: app })
  const wfastcgi = execFileSync(py, ['-c', 'import wfastcgi; print(wfastcgi.__file__)'], { encoding: 'utf8' }).trim()
  const logs = path.join(dir, 'logs')
  fs.mkdirSync(logs, { recursive: true })
  fs.writeFileSync(
    path.join(app, 'web.config'),
    `<configuration><system.webServer><handlers><add name="Python FastCGI" path="*" verb="*" modules="FastCgiModule" scriptProcessor="${py}|${wfastcgi}" resourceType="Unspecified" /></handlers></system.webServer></configuration>\n`
  )
  const fcgi = `[fullPath='${py}',arguments='${wfastcgi}']`
  appcmd('add', 'apppool', `/name:${POOL}`)
  appcmd('set', 'apppool', `/apppool.name:${POOL}`, '/processModel.identityType:ApplicationPoolIdentity')
  appcmd('add', 'app', `/site.name:${SITE}`, '/path:/app', `/physicalPath:${app}`, `/applicationPool:${POOL}`)
  appcmd('set', 'vdir', `${SITE}/app/`, `/physicalPath:${app}`)
  appcmd('add', 'vdir', `/app.name:${SITE}/app`, '/path:/static', `/physicalPath:${path.join(app, 'staticfiles')}`)
  appcmd('unlock', 'config', '-section:system.webServer/handlers')
  appcmd('set', 'config', '-section:system.webServer/fastCgi', `/+${fcgi}`, '/commit:apphost')
  const vars = {
    DJANGO_SETTINGS_MODULE: 'hello.settings',
    PYTHONPATH: app,
    WSGI_HANDLER: 'hello.wsgi.application',
    WSGI_LOG: path.join(logs, 'wfastcgi.log'),
    DJANGO_ALLOWED_HOSTS: '127.0.0.1,localhost'
  }
  for (const [name, value] of Object.entries(vars)) {
    appcmd(
      'set',
      'config',
      '-section:system.webServer/fastCgi',
      `/+${fcgi}.environmentVariables.[name='${name}',value='${value}']`,
      '/commit:apphost'
    )
  }
  for (const [target, perm] of [
    ['/usr', 'RX'],
    [venv, 'RX'],
    [app, 'RX'],
    [logs, 'M']
  ]) {
    must('icacls', [target, '/grant', `IIS AppPool\\${POOL}:(OI)(CI)${perm}`, '/Q'])
  }
  appcmd('recycle', 'apppool', `/apppool.name:${POOL}`)
  return { ms: performance.now() - started }
}

const median = values => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]
const seconds = ms => `${(ms / 1000).toFixed(2)} s`

/** The Phases table of a job summary, e.g. "Stage 310 ms, Apply 240 ms". */
function phasesOf(summary) {
  const section = summary.split('### Phases')[1] ?? ''
  return [...section.matchAll(/^\| ([^|]+) \| ([^|]+) \| [^|]+ \|$/gm)]
    .map(m => [m[1].trim(), m[2].trim()])
    .filter(([name, time]) => name !== 'Phase' && !time.startsWith('-'))
    .map(([name, time]) => `${name} ${time}`)
    .join(', ')
}

const results = { first: [], noop: [], naive: [] }
for (let i = 1; i <= RUNS; i++) {
  const box = sandbox(`server-${i}`)
  const standin = await startIisStandin({ configPath: box.configPath })
  try {
    const deployRoot = path.join(box.dir, 'deploy-root')
    const first = await deploy(box, standin, deployRoot, `first-${i}`)
    results.first.push({ ...first, ...box.counts() })
    box.reset()
    const noop = await deploy(box, standin, deployRoot, `noop-${i}`)
    results.noop.push({ ...noop, ...box.counts() })
    box.reset()
    // Warm the naive script's server the way a previous run of it would have, then time a re-run.
    naive(box, path.join(box.dir, 'naive'))
    box.reset()
    results.naive.push({ ...naive(box, path.join(box.dir, 'naive')), ...box.counts() })
  } finally {
    await standin.close()
  }
  console.log(
    `run ${i}: first ${seconds(results.first.at(-1).ms)}, no-op ${seconds(results.noop.at(-1).ms)}, naive ${seconds(results.naive.at(-1).ms)}`
  )
}

const row = (...cells) => `| ${cells.join(' | ')} |`
const m = Object.fromEntries(Object.entries(results).map(([k, v]) => [k, median(v.map(r => r.ms))]))
const counts = k => {
  const r = results[k].at(-1)
  return [String(r.reads), String(r.writes), String(r.icacls)]
}
console.log('')
console.log(row('scenario', 'median', 'runs', 'appcmd reads', 'appcmd writes', 'icacls'))
console.log(row('---', '---:', '---', '---:', '---:', '---:'))
for (const [k, label] of [
  ['first', 'first deploy'],
  ['noop', 'no-op redeploy'],
  ['naive', 'naive script re-run']
]) {
  console.log(row(label, seconds(m[k]), results[k].map(r => seconds(r.ms)).join(' / '), ...counts(k)))
}
const noopFirst = m.noop / m.first
const noopNaive = m.noop / m.naive
const noopWrites = Math.max(...results.noop.map(r => r.writes))
const verdict = ok => (ok ? 'PASS' : 'MISS')
console.log('')
console.log(`no-op / first = ${noopFirst.toFixed(3)}  (goal ≤ 0.15)  ${verdict(noopFirst <= 0.15)}`)
console.log(`no-op / naive = ${noopNaive.toFixed(3)}  (goal ≤ 0.20)  ${verdict(noopNaive <= 0.2)}`)
console.log(`no-op appcmd writes = ${noopWrites}  (goal 0)  ${verdict(noopWrites === 0)}`)
const medianNoop = results.noop.find(r => r.ms === m.noop)
console.log('')
console.log(`no-op phases (median run): ${phasesOf(medianNoop.summary)}`)
console.log(`first phases (last run):   ${phasesOf(results.first.at(-1).summary)}`)
fs.rmSync(work, { recursive: true, force: true })
