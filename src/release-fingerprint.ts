/** The hashes that decide reuse: of the venv (interpreter, requirements, pip) and of the whole release. */
import crypto from 'node:crypto'
import fs from 'node:fs'
import path from 'node:path'
import type { DeployConfig } from './config.js'
import type { InterpreterInfo } from './python/interpreter.js'
import { venvHash } from './python/venv.js'
import type { TemplateSet } from './render/templates.js'

export function hostingRequirements(config: DeployConfig): string[] {
  return config.hosting === 'fastcgi' ? [config.wfastcgi] : [config.httpPlatformPackage]
}

/**
 * The requirements file with every file it pulls in (-r, -c and their long forms), in order: a change in any of
 * them changes what pip installs, so it must change the venv's hash too.
 */
export function requirementsClosure(file: string, seen = new Set<string>()): string {
  const resolved = path.resolve(file)
  if (seen.has(resolved)) return ''
  seen.add(resolved)
  const text = fs.readFileSync(resolved, 'utf8')
  let out = `# ${path.basename(resolved)}\n${text}\n`
  for (const line of text.split(/\r?\n/)) {
    const m = /^\s*(?:-r|--requirement|-c|--constraint)(?:\s+|=)(\S+)/.exec(line)
    if (!m) continue
    const included = path.resolve(path.dirname(resolved), m[1])
    // A missing include is pip's error to report, with its own words, when it installs.
    if (fs.existsSync(included)) out += requirementsClosure(included, seen)
  }
  return out
}

export function computeVenvHash(config: DeployConfig, interpreter: InterpreterInfo): string {
  return venvHash({
    interpreterVersion: interpreter.version,
    interpreterPath: interpreter.executable,
    requirementsText: requirementsClosure(config.requirements),
    pipArgs: config.pipArgs,
    extraRequirements: hostingRequirements(config),
    systemSitePackages: config.venvSystemSitePackages
  })
}

/**
 * Everything that makes two releases interchangeable: the project's files, the venv, and every input that shapes the
 * rendered configs. Secret values enter only through a hash.
 */
export function releaseFingerprint(config: DeployConfig, projectTreeHash: string, venv: string, templates: TemplateSet): string {
  const h = crypto.createHash('sha256')
  const shaping = {
    projectTreeHash,
    venv,
    hosting: config.hosting,
    siteName: config.siteName,
    appPath: config.appPath,
    appPool: config.appPool,
    settingsModule: config.settingsModule,
    deployRoot: config.deployRoot,
    httpPlatformCommand: config.httpPlatformCommand,
    // Only when set, so releases staged before this input existed keep their fingerprint.
    ...(config.staticServedElsewhere ? { staticServedElsewhere: true } : {}),
    // The links a release holds; what is behind them (uploads) never makes a release new.
    ...(config.shared.dirs.length + config.shared.files.length > 0 ? { shared: config.shared } : {}),
    env: config.env.map(v => [v.name, crypto.createHash('sha256').update(v.value).digest('hex')]),
    templates: (['app-web.config', 'static-web.config', 'httpplatform-web.config'] as const).map(n =>
      fs.readFileSync(templates.fileOf(n), 'utf8')
    )
  }
  h.update(JSON.stringify(shaping))
  return h.digest('hex').slice(0, 16)
}
