import { PhaseError } from '../errors.js'
import type { Redactor } from '../log.js'
import { failure, likelyCause } from './django-failure.js'
import { partOf, type DjangoOptions, type PartAnswer, type ScriptRun } from './django-script.js'

/** MEDIA_ROOT inside the release: its path there ('/'-separated), and whether a shared link takes it to shared/. */
export interface MediaFolder {
  rel: string
  shared: boolean
}

/** One setting whose files would land inside the release (src/python/scripts/data_paths.py). */
export interface DataPathProblem {
  setting: string
  path: string
  message: string
}

/**
 * The data part of a run of release_checks.py: a release is replaced by the next deploy and deleted by retention,
 * so a MEDIA_ROOT, SQLite database, upload temp folder, file cache or session folder inside it (and not behind a
 * shared link) stops the run before IIS is touched, one line per setting naming the input that keeps the files.
 */
export function dataPathsFrom(run: ScriptRun, opts: Pick<DjangoOptions, 'settingsModule'>, redactor: Redactor): MediaFolder | undefined {
  const answer = partOf<PartAnswer & { problems?: DataPathProblem[]; media?: MediaFolder | null }>(
    run,
    'data',
    'preflight',
    'checking where the settings keep files',
    redactor
  )
  if (answer.ok) return answer.media ?? undefined
  if (!answer.problems) {
    const cause = likelyCause([answer.errors ?? []], { settingsModule: opts.settingsModule })
    throw failure('preflight', 'the settings that keep files could not be read', answer, cause, redactor)
  }
  throw new PhaseError(
    'preflight',
    redactor.redact(answer.problems.map(p => p.message).join('\n')),
    'keep what the app writes in deploy-root/shared/ (shared-dirs, shared-files) or outside deploy-root; the release was not deployed'
  )
}
