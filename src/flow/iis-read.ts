/**
 * Read IIS: the pool, site and app as IIS has them, under the server lock, and the checks that refuse a target
 * before anything is deployed to it. With verify-url given, staging needs nothing from the read (the preflight
 * sends that URL's Host), so the read runs beside the stage and a code change waits for the longer of the two,
 * Python checking the release, instead of both in turn (npm run bench). With verify-url empty, the preflight
 * sends the Host of the site's binding, and the stage waits for the read.
 */
import type { DeployConfig } from '../config.js'
import { deferredLog } from '../deferred-log.js'
import { requireAppInit } from '../iis/app-init.js'
import { Appcmd } from '../iis/appcmd.js'
import { refuseSharedPool } from '../iis/pool-sharing.js'
import { readStateAt, type CurrentState } from '../iis/state.js'
import type { Log } from '../log.js'
import { stateQuery } from '../plan/desired.js'
import { withBindingUrl } from '../verify/binding-url.js'
import type { RunContext } from './context.js'
import type { Step } from './steps.js'

interface TargetRead {
  current: CurrentState
  config: DeployConfig
}

async function readTarget(ctx: RunContext, log: Log): Promise<TargetRead> {
  const { config } = ctx
  const appcmd = new Appcmd({ runner: ctx.runner, log, path: config.appcmd })
  const current = await readStateAt(appcmd, stateQuery(config), ctx.layout.root, { deferFastCgi: true })
  // Warm-up needs IIS's Application Initialization feature.
  if (config.warmUp) await requireAppInit(appcmd)
  await refuseSharedPool(appcmd, config, current)
  return { current, config: withBindingUrl(config, current, log) }
}

export const readIis: Step = {
  name: 'Read IIS',
  run: async ctx => {
    if (ctx.config.verify.urlFromBinding) {
      const read = await ctx.phases.run('Read IIS', () => readTarget(ctx, ctx.log))
      ctx.current = read.current
      ctx.config = read.config
      return
    }
    // Its lines wait for the stage to take the result, so that they never land inside the stage's log groups.
    const deferred = deferredLog(ctx.log)
    const read = ctx.phases.run('Read IIS', () => readTarget(ctx, deferred.log), false)
    // Awaited by the stage; a run that fails before then still reports the read's own error there.
    read.catch(() => undefined)
    ctx.iisRead = { read, flush: deferred.flush }
  }
}

/**
 * Waits for a read started beside the stage, prints its lines in their own group and keeps its state; its failure
 * is thrown. The stage may ask twice (before a build, and once staged): the second call gets the first's outcome.
 */
export function iisReadDone(ctx: RunContext): Promise<void> {
  const pending = ctx.iisRead
  if (!pending) return Promise.resolve()
  pending.done ??= (async () => {
    try {
      ctx.current = (await pending.read).current
    } finally {
      await ctx.log.group('Read IIS', async () => pending.flush())
    }
  })()
  return pending.done
}
