/** The first steps of the stage, plan and deploy flows: checks that stop a run before anything is built. */
import type { DeployConfig } from '../config.js'
import { requireProgram } from '../inputs/programs.js'
import { desiredState } from '../plan/desired.js'
import { settingsFromSource } from '../plan/plan-output.js'
import { interpreterCacheFile, probeInterpreterCached } from '../python/interpreter-cache.js'
import { renderReleaseConfigs } from '../render/release-configs.js'
import type { TemplateName } from '../render/templates.js'
import { computeVenvHash, factsFor } from '../stage.js'
import type { RunContext } from './context.js'
import type { Step } from './steps.js'

const TEMPLATES: Record<DeployConfig['hosting'], TemplateName[]> = {
  fastcgi: ['app-web.config', 'static-web.config'],
  httpplatform: ['httpplatform-web.config', 'static-web.config']
}

export const checkTemplates: Step = {
  name: 'Check templates',
  run: ({ config, templates }) =>
    templates.checkAll([
      ...TEMPLATES[config.hosting],
      ...(config.shibboleth.enabled ? (['shibboleth2.xml'] as const) : []),
      // Uploads in a shared folder may be served by IIS (src/shared/media.ts): a broken override fails here, early.
      ...(config.shared.dirs.length > 0 ? (['media-web.config'] as const) : [])
    ])
}

export const findIisTools: Step = {
  name: 'Find appcmd and icacls',
  run: async ({ config }) => {
    await requireProgram('appcmd', config.appcmd)
    await requireProgram('icacls', config.icacls)
  }
}

export const probePython: Step = {
  name: 'Probe Python',
  run: async ctx => {
    // Plan mode writes nothing under deploy-root, so it reads the cache but never fills it.
    const probe = await probeInterpreterCached(ctx.runner, ctx.config.python, interpreterCacheFile(ctx.layout.root))
    ctx.probe = probe
    ctx.interpreter = probe.interpreter
    const { version, executable } = probe.interpreter
    ctx.log.info(`Python ${version} at ${executable}${probe.cached ? ' (unchanged since its last probe)' : ''}`)
  }
}

/** The interpreter the Probe Python step found. */
export function interpreterOf(ctx: RunContext): NonNullable<RunContext['interpreter']> {
  if (!ctx.interpreter) throw new Error('the flow used the interpreter before probing it')
  return ctx.interpreter
}

export const trialRender: Step = {
  name: 'Render the configs once on trial',
  run: ctx => {
    // A template that renders malformed XML for this run's values stops it now, not after the venv is built.
    // STATIC_URL is judged once Django is read (stage); the trial only needs a valid static location.
    const { config } = ctx
    const interpreter = interpreterOf(ctx)
    const neutralStatic = { staticUrl: 'static/', forceScriptName: null }
    const trial = factsFor(
      interpreter,
      config.releaseId,
      computeVenvHash(config, interpreter),
      settingsFromSource(config).wsgiApplication,
      neutralStatic
    )
    renderReleaseConfigs(ctx.templates, config, desiredState(config, trial), trial)
  }
}
