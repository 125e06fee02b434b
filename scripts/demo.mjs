// npm run demo: runs the bundled action (dist/index.js) in stage mode on examples/hello, for real: a venv, pip,
// collectstatic, the rendered web.config files, a preflight request through Django, and the plan for IIS.
import { execFileSync, spawnSync } from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'

const root = path.resolve(import.meta.dirname, '..')
const work = fs.mkdtempSync(path.join(os.tmpdir(), 'django-iis-deploy-demo-'))
const deployRoot = path.join(work, 'deploy-root')
const outputDir = path.join(work, 'output')

function works(python, code) {
  return spawnSync(python, ['-c', code], { stdio: 'ignore' }).status === 0
}

const inputs = {
  mode: 'stage',
  'app-dir': path.join(root, 'examples', 'hello'),
  'deploy-root': deployRoot,
  'app-path': '/app',
  'output-dir': outputDir,
  'release-id': 'demo-1',
  // A private server lock (deploy mode takes one): never the machine-wide folder other checkouts' runs use.
  'lock-dir': path.join(work, 'server-lock'),
  env: 'DJANGO_ALLOWED_HOSTS=localhost'
}

// Debian's python3-django belongs to /usr/bin/python3: use it offline, with a venv that sees system packages.
// Elsewhere pip fetches Django and wfastcgi as it would on a server with internet access.
if (fs.existsSync('/usr/bin/python3') && works('/usr/bin/python3', 'import django')) {
  const wheelhouse = path.join(work, 'wheelhouse')
  execFileSync('/usr/bin/python3', [path.join(root, 'scripts', 'wfastcgi-standin.py'), wheelhouse], { stdio: 'ignore' })
  Object.assign(inputs, {
    python: '/usr/bin/python3',
    'venv-system-site-packages': 'true',
    'pip-args': `--no-index --find-links ${wheelhouse}`
  })
  console.log('Offline: Django from Debian (/usr/bin/python3); wfastcgi from a labelled stand-in wheel, as no package index is used.')
}

const env = { ...process.env, RUNNER_TEMP: work }
for (const [name, value] of Object.entries(inputs)) env[`INPUT_${name.replace(/ /g, '_').toUpperCase()}`] = value
// The files a runner would collect: the action's outputs and its job summary (markdown).
const summary = path.join(work, 'summary.md')
const outputs = path.join(work, 'outputs.txt')
fs.writeFileSync(summary, '')
fs.writeFileSync(outputs, '')
Object.assign(env, { GITHUB_STEP_SUMMARY: summary, GITHUB_OUTPUT: outputs })

const result = spawnSync(process.execPath, [path.join(root, 'dist', 'index.js')], { env, stdio: 'inherit' })
console.log('')
if (result.status !== 0) {
  console.log(`The demo failed (exit ${result.status}); the lines above say why. Work folder: ${work}`)
  process.exit(result.status ?? 1)
}
console.log(`Release folder:   ${path.join(deployRoot, 'releases', 'demo-1')}`)
console.log(`Rendered files:   ${path.join(outputDir, 'web.config')}, ${path.join(outputDir, 'static', 'web.config')}`)
console.log(`Plan:             ${path.join(outputDir, 'plan.json')}`)
console.log(`Job summary:      ${summary}`)
