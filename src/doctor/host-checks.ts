import path from 'node:path'
import type { DeployConfig } from '../config.js'
import { layoutFor } from '../layout.js'
import { poolPrincipal } from '../plan/desired.js'
import type { ProcessRunner } from '../process.js'
import { checkShibbolethConfig } from '../shibboleth/check.js'
import type { Finding } from './findings.js'
import { ask, serviceState } from './query.js'

/** The first actions/runner release that runs `using: node24` actions (docs/windows-facts.md, rn-node24). */
export const NODE24_RUNNER = '2.327.1'

function olderThan(version: string, minimum: string): boolean {
  const a = version.split('.').map(Number)
  const b = minimum.split('.').map(Number)
  for (let i = 0; i < 3; i++) if ((a[i] ?? 0) !== (b[i] ?? 0)) return (a[i] ?? 0) < (b[i] ?? 0)
  return false
}

export function runnerFinding(env: NodeJS.ProcessEnv): Finding {
  const check = 'runner version (node24)'
  const fix = `update the runner to v${NODE24_RUNNER} or later: .\\config.cmd remove, then install the latest from https://github.com/actions/runner/releases`
  const version = (env.RUNNER_VERSION ?? '').trim().replace(/^v/, '')
  if (!/^\d+\.\d+\.\d+$/.test(version))
    return {
      check,
      status: 'warn',
      detail: `RUNNER_VERSION is not set: cannot tell whether this runner runs node24 actions (v${NODE24_RUNNER}+)`,
      fix
    }
  return olderThan(version, NODE24_RUNNER)
    ? { check, status: 'fail', detail: `runner ${version} cannot run node24 actions (v${NODE24_RUNNER}+)`, fix }
    : { check, status: 'ok', detail: `runner ${version}` }
}

export interface PythonFacts {
  version: string
  bits: number
  executable: string
  basePrefix: string
}

const PYTHON_FACTS = [
  'import json, platform, struct, sys',
  'print(json.dumps({"version": platform.python_version(), "bits": struct.calcsize("P") * 8,',
  ' "executable": sys.executable, "basePrefix": sys.base_prefix}))'
].join('\n')

export async function pythonFinding(runner: ProcessRunner, config: DeployConfig): Promise<{ finding: Finding; facts?: PythonFacts }> {
  const check = 'Python interpreter'
  const fix =
    'install 64-bit Python 3 for all users (e.g. winget install Python.Python.3.12 --scope machine) and set the python input to its python.exe'
  const answer = await ask(runner, config.python, ['-I', '-c', PYTHON_FACTS])
  if ('missing' in answer) return { finding: { check, status: 'fail', detail: `${config.python} cannot be run: ${answer.missing}`, fix } }
  try {
    const facts = JSON.parse(answer.stdout.trim().split(/\r?\n/).pop() ?? '') as PythonFacts
    if (answer.exitCode !== 0 || !/^3\.\d+/.test(facts.version)) throw new Error('not Python 3')
    const detail = `Python ${facts.version}, ${facts.bits}-bit, ${facts.executable}`
    if (facts.bits !== 64)
      return { facts, finding: { check, status: 'warn', detail: `${detail}: a 32-bit interpreter limits the app to 4 GB`, fix } }
    return { facts, finding: { check, status: 'ok', detail } }
  } catch {
    const said = `${answer.stdout}${answer.stderr}`.trim().slice(0, 300)
    return {
      finding: { check, status: 'fail', detail: `${config.python} did not answer like Python 3 (exit ${answer.exitCode}): ${said}`, fix }
    }
  }
}

/**
 * Principals whose read grant the pool's worker has: the pool's own SID, which IIS puts in every worker's token
 * (docs/windows-facts.md, dr-pool-sid), and groups every worker belongs to (assumed: dr-pool-groups).
 */
function readers(pool: string): RegExp[] {
  const own = poolPrincipal(pool).replace(/[\\^$.*+?()[\]{}|]/g, '\\$&')
  return [own, 'BUILTIN\\\\Users', 'BUILTIN\\\\IIS_IUSRS', 'NT AUTHORITY\\\\Authenticated Users', 'Everyone'].map(
    p => new RegExp(`(?:^|\\s)${p}:(?:\\([A-Z]+\\))*\\((?:F|M|RX|R)\\)`, 'im')
  )
}

/** icacls on the interpreter's installation: is the pool able to read it (the deploy grants it, so missing only warns). */
export async function pythonAclFindings(runner: ProcessRunner, config: DeployConfig, facts: PythonFacts | undefined): Promise<Finding[]> {
  const dir = facts?.basePrefix ?? path.win32.dirname(config.python)
  const answer = await ask(runner, config.icacls, [dir])
  if ('missing' in answer)
    return [
      {
        check: 'icacls',
        status: 'fail',
        detail: `${config.icacls} cannot be run: ${answer.missing}`,
        fix: 'set the icacls input to C:\\Windows\\System32\\icacls.exe'
      }
    ]
  const icacls: Finding = { check: 'icacls', status: 'ok', detail: `${config.icacls} answers` }
  const check = `pool reads Python (${poolPrincipal(config.appPool)})`
  const grant = `icacls "${dir}" /grant "${poolPrincipal(config.appPool)}:(OI)(CI)(RX)"`
  if (!facts)
    return [
      icacls,
      { check, status: 'warn', detail: 'not checked: the interpreter did not answer', fix: 'fix the Python interpreter finding first' }
    ]
  if (answer.exitCode !== 0)
    return [
      icacls,
      { check, status: 'warn', detail: `icacls ${dir} failed (exit ${answer.exitCode}): ${answer.stdout.trim()}`, fix: grant }
    ]
  const underProfile = /^[a-z]:\\users\\/i.test(dir)
  const readable = readers(config.appPool).some(r => r.test(answer.stdout))
  if (readable && !underProfile) return [icacls, { check, status: 'ok', detail: `${dir} grants read to the pool` }]
  const why = underProfile
    ? `${dir} is under a user profile, which pool identities usually cannot read`
    : `no read grant for the pool on ${dir} (the deploy adds one)`
  return [
    icacls,
    {
      check,
      status: 'warn',
      detail: why,
      fix: underProfile ? 'install Python for all users (C:\\Program Files\\Python3x) and set the python input' : grant
    }
  ]
}

/** Below this the deploy's venv and release copies may not fit; below twice this, a warning. */
export const MIN_FREE_BYTES = 1024 ** 3

export async function deployRootFindings(
  runner: ProcessRunner,
  config: DeployConfig,
  freeBytes: (dir: string) => number | undefined
): Promise<Finding[]> {
  const root = layoutFor(config.deployRoot).root
  const out: Finding[] = []
  const drive = /^[a-z]:/i.exec(root)?.[0]
  const fsCheck = `deploy-root file system (${root})`
  if (!drive) {
    out.push({
      check: fsCheck,
      status: 'warn',
      detail: 'not a drive-letter path: NTFS not checked',
      fix: 'set deploy-root to a folder on an NTFS drive, e.g. C:\\inetpub\\apps\\<app>'
    })
  } else {
    const answer = await ask(runner, 'fsutil', ['fsinfo', 'volumeinfo', `${drive}\\`])
    const name = 'missing' in answer ? undefined : /File System Name\s*:\s*(\S+)/i.exec(answer.stdout)?.[1]
    if (!name)
      out.push({
        check: fsCheck,
        status: 'warn',
        detail: `fsutil fsinfo volumeinfo ${drive}\\ gave no file system (run as an administrator)`,
        fix: `fsutil fsinfo volumeinfo ${drive}\\`
      })
    else if (name.toUpperCase() !== 'NTFS')
      out.push({
        check: fsCheck,
        status: 'fail',
        detail: `${drive} is ${name}: the pool's read grants need NTFS`,
        fix: 'set deploy-root to a folder on an NTFS drive'
      })
    else out.push({ check: fsCheck, status: 'ok', detail: `${drive} is NTFS` })
  }
  const free = freeBytes(root)
  const gb = (n: number): string => `${(n / 1024 ** 3).toFixed(1)} GB`
  const spaceCheck = `free space (${root})`
  const clean = `lower keep-releases, or free space on ${drive ?? root} (cleanmgr /d ${drive ?? 'C:'})`
  if (free === undefined) out.push({ check: spaceCheck, status: 'warn', detail: 'could not read the free space', fix: clean })
  else if (free < MIN_FREE_BYTES)
    out.push({
      check: spaceCheck,
      status: 'fail',
      detail: `${gb(free)} free: a venv and a release copy need about ${gb(MIN_FREE_BYTES)}`,
      fix: clean
    })
  else if (free < 2 * MIN_FREE_BYTES) out.push({ check: spaceCheck, status: 'warn', detail: `${gb(free)} free`, fix: clean })
  else out.push({ check: spaceCheck, status: 'ok', detail: `${gb(free)} free` })
  return out
}

/** With SSO: the SP's own check of the configured file, and its service. */
export async function shibbolethFindings(runner: ProcessRunner, config: DeployConfig): Promise<Finding[]> {
  const sp = config.shibboleth
  const out: Finding[] = []
  const result = await checkShibbolethConfig(runner, sp.check, sp.configPath)
  out.push(
    result.ok
      ? { check: 'Shibboleth config check', status: 'ok', detail: `${result.argv.join(' ')} passed` }
      : {
          check: 'Shibboleth config check',
          status: 'fail',
          detail: `${result.argv.join(' ')} failed (exit ${result.exitCode}): ${result.output.trim().split(/\r?\n/).slice(-3).join(' ')}`,
          fix:
            result.exitCode === -1
              ? 'install the Shibboleth SP 3 (msiexec /i shibboleth-sp-3.x-win64.msi /qn) or set shibboleth-check'
              : `correct ${sp.configPath} until this passes: ${result.argv.join(' ')}`
        }
  )
  const s = await serviceState(runner, sp.service)
  const check = `Shibboleth service (${sp.service})`
  if (s.kind === 'missing')
    out.push({
      check,
      status: 'fail',
      detail: 'not installed',
      fix: 'install the Shibboleth SP 3 (msiexec /i shibboleth-sp-3.x-win64.msi /qn), or set shibboleth-service'
    })
  else if (s.kind === 'unknown')
    out.push({ check, status: 'warn', detail: `sc.exe query gave no state: ${s.output}`, fix: `sc.exe query ${sp.service}` })
  else if (s.state !== 'RUNNING')
    out.push({ check, status: 'warn', detail: `${s.state} (the deploy starts it)`, fix: `net start ${sp.service}` })
  else out.push({ check, status: 'ok', detail: 'running' })
  return out
}
