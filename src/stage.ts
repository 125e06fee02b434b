import fs from 'node:fs'
import type { DeployConfig } from './config.js'
import { discardDir } from './discard.js'
import { PhaseError } from './errors.js'
import { layoutFor, pathApi, type Layout } from './layout.js'
import type { Log } from './log.js'
import { desiredState, type StageFacts } from './plan/desired.js'
import type { DesiredState } from './plan/types.js'
import { describeStaticLocation, type StaticSettings } from './plan/static-location.js'
import type { ProcessRunner } from './process.js'
import type { InterpreterInfo } from './python/interpreter.js'
import { listProject } from './python/release-files.js'
import { ensureVenv, findWfastcgi, venvReady } from './python/venv.js'
import { computeVenvHash, hostingRequirements, releaseFingerprint, requirementsClosure } from './release-fingerprint.js'
import { hashProject, projectCacheFile } from './project-fingerprint.js'
import { buildReleaseTree } from './release-tree.js'
import { findReleaseByFingerprint, readReleaseAt, removeAbandonedScratch, scratchDirFor, writeRelease } from './releases.js'
import { renderReleaseConfigs, type RenderedFile } from './render/release-configs.js'
import type { TemplateSet } from './render/templates.js'
import { linkShared, removeReleaseDir, seedShared, sharedExcludes, sharedToSeed } from './shared/links.js'
import { rewriteMediaConfig } from './shared/serve-media.js'
import { stageDjango } from './stage-django.js'
import type { PendingMigrations } from './migrations/pending.js'
import { samePath } from './windows-path.js'

export interface StageResult {
  facts: StageFacts
  desired: DesiredState
  releaseDir: string
  /** An identical release already existed under deploy-root and is used as it is. */
  releaseReused: boolean
  venvReused: boolean
  staticFiles: string[]
  /** The URL (a path on the site, or absolute) the app renders for one collected file: what verify fetches. */
  staticCheckUrl?: string
  checkWarnings: { id: string; message: string }[]
  configs: RenderedFile[]
  /** Listed by the stage's Django process; undefined for a reused release (src/flow/database-steps.ts lists them). */
  pendingMigrations?: PendingMigrations
}

/** The packages the hosting mode needs in the venv besides the app's requirements. */
export { computeVenvHash, hostingRequirements, releaseFingerprint, requirementsClosure }

export interface StageDeps {
  runner: ProcessRunner
  log: Log
  templates: TemplateSet
  /**
   * Awaited before the stage builds a venv or seeds shared data: a read of IIS running beside the stage may still
   * refuse the target, and a wrong site-name must cost neither a venv build nor data left behind.
   */
  beforeBuild?: () => Promise<void>
  /** Called once the fingerprint matches no release: a new one is built and checked (about 0.5 s of Python). */
  onNewRelease?: () => void
}

/**
 * The FastCGI registration names wfastcgi.py where the layout says pip puts it; a new venv proves it once, since a
 * registration naming a missing file makes every request a 500 that no preflight outside IIS would see.
 */
export async function checkWfastcgiPath(runner: ProcessRunner, layout: Layout, hash: string, pythonVersion: string): Promise<void> {
  const expected = pathApi(layout.flavour).join(layout.venvSitePackages(hash, pythonVersion), 'wfastcgi.py')
  const found = await findWfastcgi(runner, layout.venvPython(hash))
  if (samePath(found, expected) || fs.existsSync(expected)) return
  throw new PhaseError(
    'stage',
    `the venv's wfastcgi.py is ${found}, but the FastCGI registration would name ${expected}`,
    'install wfastcgi into the venv itself (the wfastcgi input), not into a user or system site-packages'
  )
}

/**
 * Builds a release that is proven to work before IIS sees it: venv (reused by hash), project copy, collectstatic,
 * rendered web.config files, and a preflight through the WSGI handler with the environment IIS will give it.
 */
export async function stageRelease(deps: StageDeps, config: DeployConfig, interpreter: InterpreterInfo): Promise<StageResult> {
  const { runner, log, templates } = deps
  const layout = layoutFor(config.deployRoot)
  const hash = computeVenvHash(config, interpreter)
  const venvPython = layout.venvPython(hash)
  if (deps.beforeBuild && (!(await venvReady(layout.venvDir(hash), hash)) || sharedToSeed(layout, config.shared))) await deps.beforeBuild()

  const venv = await log.group(`Virtual environment ${hash}`, async () => {
    const result = await ensureVenv(runner, log, {
      python: interpreter.executable,
      venvDir: layout.venvDir(hash),
      venvPython,
      hash,
      systemSitePackages: config.venvSystemSitePackages,
      requirementsFile: config.requirements,
      pipArgs: config.pipArgs,
      extraRequirements: hostingRequirements(config)
    })
    log.info(
      result.reused ? `Reused: interpreter, requirements and pip-args are unchanged (hash ${hash}).` : `Built ${layout.venvDir(hash)}.`
    )
    if (!result.reused && config.hosting === 'fastcgi') await checkWfastcgiPath(runner, layout, hash, interpreter.majorMinor)
    return result
  })

  fs.mkdirSync(layout.releasesDir, { recursive: true })
  // Scratch copies left by runs that died go first; a live run's copy is its work in progress.
  removeAbandonedScratch(layout)
  const incomplete = layout.releaseDir(config.releaseId)
  if (fs.existsSync(incomplete) && !readReleaseAt(incomplete)) {
    // No manifest: a stage that died half-way (the manifest is written last). Never served, so it can go.
    log.info(`Removing ${incomplete}: an incomplete release left by an earlier run`)
    removeReleaseDir(incomplete, config.shared)
  }
  // Metadata first: only files whose size or mtime changed are read, so a no-op does not grow with the project.
  // output-dir changes on every run (plan.json): inside app-dir it would make every release look new.
  // Shared paths stay out of the copy (and so out of the fingerprint): the release links them instead.
  const files = listProject(config.appDir, {
    exclude: [config.outputDir, ...sharedExcludes(config.appDir, config.shared)],
    target: layout.root
  })
  for (const seeded of seedShared(layout, config.shared, config.appDir)) log.info(`Shared ${seeded} in ${layout.sharedDir}.`)
  const project = hashProject(files, config.appDir, projectCacheFile(layout.root, config.appDir))
  log.info(`${files.length} project files, ${project.hashed} read for their content (the others' size and mtime are unchanged).`)
  const fingerprint = releaseFingerprint(config, project.treeHash, hash, templates)
  const existing = findReleaseByFingerprint(layout, fingerprint)

  if (existing) {
    log.info(
      `Release ${existing.id} has the same code, venv and settings (fingerprint ${fingerprint}): reusing it, no copy, collectstatic or preflight.`
    )
    // Releases staged before STATIC_URL was recorded served '<app>/static': that is what they link.
    const facts = factsFor(
      interpreter,
      existing.id,
      hash,
      existing.wsgiApplication ?? '',
      existing.staticSettings ?? { staticUrl: 'static/', forceScriptName: null }
    )
    const desired = desiredState(config, facts)
    log.info(describeStaticLocation(desired.staticLocation))
    // Same fingerprint, same shared paths: the links are there unless someone removed them.
    linkShared(layout, config.shared, layout.releaseDir(existing.id))
    if (existing.media) rewriteMediaConfig(log, templates, layout.releaseDir(existing.id), existing.media)
    return {
      facts,
      desired,
      releaseDir: layout.releaseDir(existing.id),
      releaseReused: true,
      venvReused: venv.reused,
      staticFiles: existing.staticFiles ?? [],
      ...(existing.staticCheckUrl ? { staticCheckUrl: existing.staticCheckUrl } : {}),
      checkWarnings: [],
      configs: renderReleaseConfigs(templates, config, desired, facts)
    }
  }

  deps.onNewRelease?.()
  const releaseDir = layout.releaseDir(config.releaseId)
  if (fs.existsSync(releaseDir)) {
    throw new PhaseError(
      'stage',
      `release folder ${releaseDir} already exists with other content`,
      'set release-id to a new value (it defaults to the run id and attempt)'
    )
  }
  // Built in a scratch folder and renamed: a release folder is never half-filled.
  const scratch = scratchDirFor(layout, config.releaseId)
  // The release whose project files this one shares: its collected static files are offered to collectstatic too.
  let linkSource: string | undefined
  try {
    const tree = buildReleaseTree(layout, files, project.hashes, scratch, interpreter.cacheTag)
    linkSource = tree.from
    linkShared(layout, config.shared, scratch)
    log.info(
      tree.from
        ? `${tree.linked} unchanged files shared with release ${tree.from} (hard links), ${tree.copied} copied, with ${tree.bytecode} bytecode files Python compiled for them (__pycache__).`
        : `${tree.copied} files copied (no earlier release lists its files to share).`
    )
    fs.renameSync(scratch, releaseDir)
  } catch (e) {
    discardFailed(log, scratch, config)
    throw e
  }

  try {
    const staged = await stageDjango(
      {
        runner,
        log,
        templates,
        layout,
        interpreter,
        venvPython,
        venvHash: hash,
        releaseDir,
        ...(linkSource ? { staticShareFrom: layout.staticDir(linkSource) } : {}),
        factsFor: (wsgiApplication, staticSettings) => factsFor(interpreter, config.releaseId, hash, wsgiApplication, staticSettings)
      },
      config
    )
    const { facts, desired, staticSettings, staticFiles, checkWarnings, configs, media } = staged
    const checkUrl = staged.checkUrl

    // Written last: a release without a manifest never counts as complete.
    writeRelease(layout, {
      id: config.releaseId,
      createdAt: new Date().toISOString(),
      venvHash: hash,
      fingerprint,
      wsgiApplication: facts.wsgiApplication,
      staticFiles,
      staticSettings,
      ...(checkUrl ? { staticCheckUrl: checkUrl } : {}),
      state: 'staged',
      target: { site: config.siteName, appPath: config.appPath },
      ...(config.shared.dirs.length + config.shared.files.length > 0 ? { shared: config.shared } : {}),
      ...(media ? { media } : {})
    })
    return {
      facts,
      desired,
      releaseDir,
      releaseReused: false,
      venvReused: venv.reused,
      staticFiles,
      ...(checkUrl ? { staticCheckUrl: checkUrl } : {}),
      checkWarnings,
      configs,
      ...(staged.pendingMigrations ? { pendingMigrations: staged.pendingMigrations } : {})
    }
  } catch (e) {
    // A release that failed to stage must never be picked up later.
    discardFailed(log, releaseDir, config)
    throw e
  }
}

/**
 * A failed stage's folder goes by rename, then delete (src/discard.ts); what cannot go now (a shared static file
 * held open) is said, and the stage's own error is still the one that ends the run. Left in place, a release folder
 * has no manifest yet, which makes it incomplete to every later run.
 */
function discardFailed(log: Log, dir: string, config: DeployConfig): void {
  const { left } = discardDir(dir, d => removeReleaseDir(d, config.shared))
  if (left) log.warning(left)
}

export function factsFor(
  interpreter: InterpreterInfo,
  releaseId: string,
  hash: string,
  wsgiApplication: string,
  staticSettings: StaticSettings
): StageFacts {
  return {
    releaseId,
    venvHash: hash,
    pythonVersion: interpreter.majorMinor,
    pythonHome: interpreter.basePrefix,
    wsgiApplication,
    staticSettings
  }
}
