import { PhaseError } from '../errors.js'
import type { ProcessRunner } from '../process.js'
import { samePath } from '../windows-path.js'

/** Stands in the check command for the file to check (`shibd -t -c {config}` on Linux). */
export const CONFIG_PLACEHOLDER = '{config}'

/** Where the Windows installer puts the SP's config, which shibd and the IIS module read unless told otherwise. */
export const SP_DEFAULT_CONFIG = 'C:\\opt\\shibboleth-sp\\etc\\shibboleth\\shibboleth2.xml'

/**
 * shibd.exe reads `-config <file>` after `-check`; without it the check loads the SP's
 * default file, not the one the deploy patched (docs/windows-facts.md, sp-check-config).
 */
export const DEFAULT_CHECK = `C:\\opt\\shibboleth-sp\\sbin64\\shibd.exe -check -config ${CONFIG_PLACEHOLDER}`

/**
 * Why a check command would check another file than configPath, or undefined: a command without {config} loads
 * the SP's default file, which is configPath only when that is the default.
 */
export function checksOtherFile(check: readonly string[], configPath: string): string | undefined {
  if (check.some(arg => arg.includes(CONFIG_PLACEHOLDER))) return undefined
  const same = samePath(configPath, SP_DEFAULT_CONFIG)
  if (same) return undefined
  return `shibboleth-check (${check.join(' ')}) names no ${CONFIG_PLACEHOLDER}: it checks the SP's default ${SP_DEFAULT_CONFIG}, not ${configPath}; add -config ${CONFIG_PLACEHOLDER} to it`
}

export interface CheckResult {
  ok: boolean
  exitCode: number
  /** stdout and stderr of the checker, as it printed them. */
  output: string
  argv: string[]
}

/**
 * The check command with the config path filled in. The SP reads relative paths inside the file against its own
 * folders, which is why apply writes the file in place first and checks it there.
 */
export function checkArgv(check: readonly string[], configPath: string): string[] {
  if (check.length === 0)
    throw new PhaseError('shibboleth', 'no Shibboleth check command is configured', `set shibboleth-check, e.g. ${DEFAULT_CHECK}`)
  return check.map(arg => arg.split(CONFIG_PLACEHOLDER).join(configPath))
}

/** Runs the SP's own config check; the SP exits non-zero when it cannot load the config. */
export async function checkShibbolethConfig(runner: ProcessRunner, check: readonly string[], configPath: string): Promise<CheckResult> {
  const argv = checkArgv(check, configPath)
  const [file, ...args] = argv as [string, ...string[]]
  let result
  try {
    result = await runner.run(file, args)
  } catch (e) {
    // A missing program is a failed check, not a crash: the caller restores the backup either way.
    return { ok: false, exitCode: -1, output: `could not run ${file}: ${(e as Error).message}`, argv }
  }
  const output = [result.stdout, result.stderr].filter(s => s.trim() !== '').join('\n')
  return { ok: result.exitCode === 0, exitCode: result.exitCode, output, argv }
}

/** The checker's lines that say why it failed (ERROR/FATAL/CRIT), else its last lines. */
export function checkFailureSummary(result: CheckResult, maxLines = 15): string {
  const all = result.output.split(/\r?\n/).filter(l => l.trim() !== '')
  const serious = all.filter(l => /\b(FATAL|CRIT|ERROR)\b/.test(l))
  const shown = (serious.length > 0 ? serious : all).slice(-maxLines)
  return shown.join('\n')
}
