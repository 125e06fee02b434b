import path from 'node:path'

/** The path rules of the server the deploy targets: Windows for IIS, POSIX when staging on Linux or macOS. */
export type Flavour = 'win32' | 'posix'

/**
 * A deploy-root like C:\x, C:/x or \\server\share is a Windows target whatever machine renders the plan, and on
 * Windows every path is one (\inetpub\x is on the current drive).
 */
export function flavourOf(deployRoot: string, platform: NodeJS.Platform = process.platform): Flavour {
  if (platform === 'win32') return 'win32'
  return /^[a-zA-Z]:[\\/]/.test(deployRoot) || /^\\\\[^\\]/.test(deployRoot) ? 'win32' : 'posix'
}

export function pathApi(flavour: Flavour): path.PlatformPath {
  return flavour === 'win32' ? path.win32 : path.posix
}

/** Where everything of one target lives under deploy-root. */
export interface Layout {
  flavour: Flavour
  root: string
  releasesDir: string
  venvsDir: string
  logsDir: string
  /** What outlives releases (shared-dirs, shared-files): linked into each release, never pruned. */
  sharedDir: string
  wsgiLog: string
  releaseDir(id: string): string
  /** The collected static files of a release, served by the static virtual directory. */
  staticDir(id: string): string
  venvDir(hash: string): string
  venvPython(hash: string): string
  /** Where pip puts wfastcgi.py in a venv; posix venvs carry the Python version in the path. */
  venvSitePackages(hash: string, pythonVersion: string): string
}

export function layoutFor(deployRoot: string): Layout {
  const flavour = flavourOf(deployRoot)
  const p = pathApi(flavour)
  const normal = p.normalize(deployRoot)
  // A trailing separator goes, but not the root's own: C:\ without it would mean "the current folder on C:".
  const root = normal === p.parse(normal).root ? normal : normal.replace(/[\\/]+$/, '')
  const releasesDir = p.join(root, 'releases')
  const venvsDir = p.join(root, 'venvs')
  const logsDir = p.join(root, 'logs')
  return {
    flavour,
    root,
    releasesDir,
    venvsDir,
    logsDir,
    sharedDir: p.join(root, 'shared'),
    wsgiLog: p.join(logsDir, 'wfastcgi.log'),
    releaseDir: id => p.join(releasesDir, id),
    staticDir: id => p.join(releasesDir, id, 'static'),
    venvDir: hash => p.join(venvsDir, hash),
    venvPython: hash => (flavour === 'win32' ? p.join(venvsDir, hash, 'Scripts', 'python.exe') : p.join(venvsDir, hash, 'bin', 'python')),
    venvSitePackages: (hash, pythonVersion) =>
      flavour === 'win32'
        ? p.join(venvsDir, hash, 'Lib', 'site-packages')
        : p.join(venvsDir, hash, 'lib', `python${pythonVersion}`, 'site-packages')
  }
}
