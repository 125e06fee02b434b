// Test double of %windir%\system32\inetsrv\appcmd.exe, in process, faithful to docs/windows-facts.md (ac-* rows).
// Its state is a real applicationHost.config file. `../appcmd` runs it as a program for the bundle and the IIS
// stand-in; the test runner (../double-runner.ts) calls runAppcmd directly. Product code must never import it.
//
// Environment:
//   APPCMD_DOUBLE_CONFIG       path of the applicationHost.config state file (required; created from
//                              applicationHost.seed.config when it does not exist yet)
//   APPCMD_DOUBLE_BACKUPS      folder holding backups as <NAME>/applicationHost.config
//                              (default: a "backup" folder beside the state file)
//   APPCMD_DOUBLE_LOG          JSON-lines call log, one {argv, exitCode, mutating, stdout} per call
//   APPCMD_DOUBLE_FAIL_AT      k (1-based), or k1,k2,...: the k-th mutating call, counted across processes from the log,
//                              fails with exit 32 "Failed to commit configuration changes" and changes nothing
//   APPCMD_DOUBLE_FAIL_AT_FILE file holding k, read when APPCMD_DOUBLE_FAIL_AT is unset (lets a test arm a
//                              failure after the environment was handed to the code under test)
//   APPCMD_DOUBLE_LIST_MISS    how `list <object> <identifier>` answers when nothing has that identifier (not
//                              settled for real appcmd, so each plausible form can be chosen):
//                              exit1-empty (default): exit 1, no output at all, /xml or not; lextm/jexusmanager's
//                                appcmd clone, JexusManager.CLI/AppCmdEngine.cs (list: exit 1 when a name was given
//                                and nothing printed), test ListMissingSiteSilentlyFails in
//                                Tests.JexusManager/AppCmd/AppCmdTestFixture.cs
//                              exit0-xml: exit 0; with /xml an empty `<appcmd>` element (the help text's "match
//                                zero or more" read as a search that found none)
//                              exit0-xml-selfclosing: exit 0; with /xml `<appcmd />`
//                              not-found: exit 1168 + `Cannot find <TYPE> object with identifier "<id>".`, the
//                                form start/stop/recycle of a missing object give (jexusmanager StartMissingSiteFails)
//
// Behaviour notes:
// - Every verb except `list` counts as mutating (add, set, delete, unlock, start, stop, recycle, restore).
// - Errors go to stdout as `ERROR ( message:... )`, stderr stays empty; exit codes are the Windows numbers,
//   which a process reports modulo 256 on Linux (1168 → 144, 4312 → 216).
// - `list` with an identifier that matches nothing: see APPCMD_DOUBLE_LIST_MISS. `list` with filters only
//   that match nothing: no text (or an empty <appcmd> with /xml) and exit 1.
// - Runtime state (site/pool started or stopped) lives in "<state file>.runtime.json", not in the config,
//   so backups hold configuration only, as on IIS.
// - argv arrives without a shell: quotes inside an argument are literal characters, as when the product
//   passes ["set","config","-section:...","/+[fullPath='...']"]. A quoted indexer (/+"[...]") is malformed.
import fs from 'node:fs'
import path from 'node:path'
import { AppcmdError, EXIT, fail, parseArgs } from './appcmd-args.js'
import { backupVerb } from './appcmd-backups.js'
import { allApps, allPools, allSites, allVdirs, listObjects, type Answer, type ObjectType } from './appcmd-objects.js'
import { listConfig } from './appcmd-sections.js'
import { setConfig, unlockConfig } from './appcmd-set-config.js'
import { loadDocument, runtimeState, serializeDocument, statePaths, writeAtomic, type DoubleEnv, type StatePaths } from './appcmd-store.js'
import { objectVerb, type VerbResult } from './appcmd-verbs.js'

export type { DoubleEnv } from './appcmd-store.js'

/** One logged call, as `APPCMD_DOUBLE_LOG` holds it. */
export interface AppcmdCall {
  argv: string[]
  exitCode: number
  mutating: boolean
  stdout: string
}

const OBJECTS: Record<string, 'site' | 'app' | 'vdir' | 'apppool' | 'backup' | 'config'> = {
  site: 'site',
  sites: 'site',
  app: 'app',
  apps: 'app',
  vdir: 'vdir',
  vdirs: 'vdir',
  apppool: 'apppool',
  apppools: 'apppool',
  backup: 'backup',
  backups: 'backup',
  config: 'config',
  configs: 'config'
}

function sleep(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms)
}
/** Serializes writers across processes (the shim) and the test process (the runner) on one state file. */
function withLock<T>(paths: StatePaths, fn: () => T): T {
  fs.mkdirSync(path.dirname(paths.lock), { recursive: true })
  for (let attempt = 0; ; attempt++) {
    try {
      fs.mkdirSync(paths.lock)
      break
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST' || attempt > 1000) throw error
      sleep(10)
    }
  }
  try {
    return fn()
  } finally {
    fs.rmSync(paths.lock, { recursive: true, force: true })
  }
}

function mutatingCallsSoFar(env: DoubleEnv): number {
  const log = env.APPCMD_DOUBLE_LOG
  if (!log || !fs.existsSync(log)) return 0
  return fs
    .readFileSync(log, 'utf8')
    .split('\n')
    .filter(line => line.trim() !== '')
    .filter(line => (JSON.parse(line) as AppcmdCall).mutating).length
}

function failAt(env: DoubleEnv): number[] | undefined {
  let raw = env.APPCMD_DOUBLE_FAIL_AT
  if ((raw === undefined || raw === '') && env.APPCMD_DOUBLE_FAIL_AT_FILE && fs.existsSync(env.APPCMD_DOUBLE_FAIL_AT_FILE)) {
    raw = fs.readFileSync(env.APPCMD_DOUBLE_FAIL_AT_FILE, 'utf8').trim()
  }
  if (raw === undefined || raw === '') return undefined
  if (!env.APPCMD_DOUBLE_LOG)
    throw new AppcmdError(
      EXIT.invalidParameter,
      'ERROR ( message:appcmd double: APPCMD_DOUBLE_FAIL_AT needs APPCMD_DOUBLE_LOG to count calls. )'
    )
  return raw.split(',').map(Number)
}

// docs/windows-facts.md, ac-commit-locked.
const COMMIT_FAILED =
  'ERROR ( hresult:80070020, message:Failed to commit configuration changes.\nThe process cannot access the file because it is being used by another process.\n )'

function execute(argv: readonly string[], paths: StatePaths, env: DoubleEnv): Answer {
  const [rawVerb, rawObject, ...rest] = argv
  const verb = (rawVerb ?? '').toLowerCase()
  const object = OBJECTS[(rawObject ?? '').toLowerCase()]
  if (!object) return fail(EXIT.invalidParameter, `appcmd double: unknown object type "${rawObject ?? ''}".`)
  const { identifier, options } = parseArgs(rest)
  const missForm = env.APPCMD_DOUBLE_LIST_MISS

  if (object === 'backup') return backupVerb(verb, paths, identifier, options, missForm)
  const doc = loadDocument(paths)
  if (verb === 'list') {
    if (object === 'config') return { stdout: listConfig(doc, identifier, options), exitCode: EXIT.ok }
    const runtime = runtimeState(paths)
    const all = {
      site: () => allSites(doc, runtime),
      app: () => allApps(doc),
      vdir: () => allVdirs(doc),
      apppool: () => allPools(doc, runtime)
    }[object]()
    const type = object.toUpperCase() as ObjectType
    return listObjects(type, all, identifier, options, doc, missForm)
  }
  let result: VerbResult
  if (object === 'config' && verb === 'set') result = { stdout: setConfig(doc, identifier, options), changed: true }
  else if (object === 'config' && verb === 'unlock') result = { stdout: unlockConfig(doc, identifier, options), changed: true }
  else result = objectVerb(verb, object, doc, paths, identifier, options)
  if (result.changed) writeAtomic(paths.config, serializeDocument(doc))
  return { stdout: result.stdout, exitCode: EXIT.ok }
}

function appendLog(env: DoubleEnv, argv: readonly string[], result: Answer, mutating: boolean): void {
  const log = env.APPCMD_DOUBLE_LOG
  if (!log) return
  fs.mkdirSync(path.dirname(log), { recursive: true })
  fs.appendFileSync(log, `${JSON.stringify({ argv, exitCode: result.exitCode, mutating, stdout: result.stdout })}\n`)
}

/**
 * One appcmd call: argv as the product passes it, the double's environment and the seed a missing state file
 * starts from. Answers with the Windows exit code; stderr is always empty.
 */
export function runAppcmd(argv: readonly string[], env: DoubleEnv, seed: string): Answer & { stderr: string } {
  const mutating = argv.length > 0 && (argv[0] ?? '').toLowerCase() !== 'list'
  const run = (paths: StatePaths): Answer => {
    if (mutating) {
      const k = failAt(env)
      if (k !== undefined && k.includes(mutatingCallsSoFar(env) + 1)) return { stdout: `${COMMIT_FAILED}\n`, exitCode: EXIT.commitFailed }
    }
    return execute(argv, paths, env)
  }
  const guarded = (paths: StatePaths): Answer => {
    try {
      return run(paths)
    } catch (error) {
      if (error instanceof AppcmdError) return { stdout: `${error.message}\n`, exitCode: error.exitCode }
      throw error
    }
  }
  let outcome: Answer
  try {
    const paths = statePaths(env, seed)
    outcome = mutating
      ? withLock(paths, () => {
          const result = guarded(paths)
          appendLog(env, argv, result, mutating)
          return result
        })
      : guarded(paths)
    if (!mutating) appendLog(env, argv, outcome, mutating)
  } catch (error) {
    if (!(error instanceof AppcmdError)) throw error
    outcome = { stdout: `${error.message}\n`, exitCode: error.exitCode }
  }
  return { ...outcome, stderr: '' }
}
