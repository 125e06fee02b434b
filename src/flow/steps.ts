/** A mode's flow is a list of named steps run in order over one RunContext. */
import type { RunContext } from './context.js'

export interface Step {
  name: string
  /** Recorded as a phase of the summary under `name`; 'grouped' also folds its log lines into a group. */
  phase?: 'grouped' | 'plain'
  /** Runs only when this says so (a step of some runs of the mode, e.g. the SP with shibboleth on). */
  when?: (ctx: RunContext) => boolean
  run: (ctx: RunContext) => unknown
}

export async function runSteps(ctx: RunContext, steps: readonly Step[]): Promise<void> {
  for (const step of steps) {
    if (step.when && !step.when(ctx)) continue
    if (step.phase) await ctx.phases.run(step.name, async () => step.run(ctx), step.phase === 'grouped')
    else await step.run(ctx)
  }
}
