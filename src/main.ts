import { getInputs } from './config.js'
import { asError } from './errors.js'
import { actionDeps, contextFor, type RunContext, type RunDeps } from './flow/context.js'
import { flowOf } from './flow/modes.js'
import { failRun, reportFrom } from './flow/outcome.js'
import { dropUnusedRestorePoint } from './flow/stage-steps.js'
import { runSteps } from './flow/steps.js'
import { recordRun } from './history/record.js'
import { Phases } from './phases.js'
import { setOutputs, writeSummary, type RunReport } from './report.js'
import { urlCredentials } from './verify/url-credentials.js'

export { actionDeps, type RunDeps }

/** Every secret of the inputs is masked before anything can print it. */
function maskSecrets(ctx: RunContext): void {
  const { config, log } = ctx
  for (const v of config.env) if (v.secret) log.secret(v.value)
  if (config.poolAccount?.password) log.secret(config.poolAccount.password)
  for (const url of [config.verify.url, ...config.verify.extraUrls]) for (const part of urlCredentials(url)) log.secret(part)
}

/**
 * One run of the action: the inputs resolved once into a context, then the mode's list of steps
 * (src/flow/modes.ts). Never throws: every failure becomes one error line (and a diagnosis where one helps), and
 * the summary and outputs are written, from the report built at the end, whatever happened.
 */
export async function run(deps: RunDeps = actionDeps()): Promise<void> {
  const { log } = deps
  const phases = new Phases(log)
  let ctx: RunContext | undefined
  let error: Error | undefined
  let hints: RunReport['hints'] = []
  try {
    ctx = contextFor(deps, getInputs(deps.inputs, deps.env, deps.cwd), phases)
    maskSecrets(ctx)
    await runSteps(ctx, flowOf(ctx))
  } catch (thrown) {
    error = asError(thrown)
    hints = await failRun(deps, error)
  } finally {
    // Under the server's lock, and before the report: a backup taken for a switch that never came is deleted.
    await dropUnusedRestorePoint(ctx)
    const report = reportFrom(deps, ctx, phases, error, hints)
    // Under the target's lock, so two runs' entries never interleave; a run stopped before the lock changed nothing.
    if (ctx?.targetLocked && ctx.config.mode === 'deploy') recordRun(report, deps.env, log)
    for (const lock of [...(ctx?.locks ?? [])].reverse()) lock.release()
    setOutputs(report, deps.setOutput)
    await writeSummary(report, deps.summary, { redact: text => log.redact(text), log })
  }
}
