// Types of iis-standin.mjs, the IIS stand-in for end-to-end tests and the bench (see the file's header).
export const LOCKED_SECTION_TEXT: string
export const DUPLICATE_MIME_TEXT: string
export const NO_FASTCGI_APP_TEXT: string
export const CONFIG_UNREADABLE_TEXT: string

export interface IisStandinOptions {
  /** The appcmd double's state file. */
  configPath: string
  site?: string
  /** The icacls double's log: IIS then reads an app's web.config as its pool identity (iis-standin-sites.mjs). */
  aclLog?: string
  /**
   * FastCGI processes per pool worker process and fullPath|arguments, kept across apps and physical paths until the
   * pool is recycled (docs/windows-facts.md, st-worker); else one per app path, restarted when its path changes.
   */
  fastCgiPerWorker?: boolean
  /** Longest wait for a backend to accept connections after it was started. */
  backendStartMs?: number
}

export interface BackendInfo {
  pid: number
  physicalPath: string
  env: Record<string, string>
}

export interface IisStandin {
  url: string
  port: number
  /** Requests answered, by how: 'static', 'fastcgi', 'httpplatform' or an error status. */
  served(): string[]
  /** The running backend (the FastCGI worker or HttpPlatformHandler's process), if any. */
  backend(): BackendInfo | undefined
  /** How many backends were started: a changed path or environment starts a new one. */
  backendStarts(): number
  /** The other sites served now, as `name|port`. */
  otherSites(): string[]
  close(): Promise<void>
}

/** Starts the stand-in on 127.0.0.1 on an ephemeral port. */
export function startIisStandin(opts: IisStandinOptions): Promise<IisStandin>
