/**
 * Writes a deploy's run journal (src/journal/store.ts): before apply, after each step (through applyPlan's
 * StepObserver), when apply ended, and closes it when the run ended well.
 */
import type { StepObserver } from '../iis/apply.js'
import type { CurrentState, NameValue } from '../iis/state.js'
import { maskSecrets } from '../masking.js'
import type { DeployPlan } from '../plan/build.js'
import type { Step } from '../plan/types.js'
import {
  closeJournal,
  journalFileFor,
  JOURNAL_VERSION,
  MASKED,
  writeJournal,
  type JournalDesired,
  type RunJournal,
  type SpJournalEntry
} from './store.js'

export interface JournalStart {
  plan: DeployPlan
  releaseId: string
  releaseVerifiedBefore: boolean
  lastVerifiedRelease?: string
  /** deploy-root's location record as read before apply (LocationRecord.original). */
  locationRecord: string | undefined
}

/** Every secret value the run knows: the steps', the variables' and the pool password. */
function secretsOf(plan: DeployPlan): string[] {
  const { desired } = plan
  return [
    ...plan.steps.flatMap(s => s.secrets ?? []),
    ...(desired.fastCgi?.env ?? []).filter(v => v.secret).map(v => v.value),
    ...desired.httpPlatformSecretEnv.map(v => v.value),
    ...(desired.pool.account?.password ? [desired.pool.account.password] : [])
  ]
}

/**
 * The state before, without the value of any variable a secret names: read back from IIS it may be an earlier
 * secret (a rotated token), which this run never registered for masking.
 */
function maskedBefore(current: CurrentState, secretNames: ReadonlySet<string>): { before: CurrentState; maskedNames: string[] } {
  const masked = new Set<string>()
  const hide = (vars: NameValue[]): NameValue[] =>
    vars.map(v => {
      if (!secretNames.has(v.name.toLowerCase())) return v
      masked.add(v.name)
      return { name: v.name, value: MASKED }
    })
  const before: CurrentState = {
    ...current,
    fastCgi: current.fastCgi.map(app => ({ ...app, env: hide(app.env) })),
    ...(current.httpPlatformEnv ? { httpPlatformEnv: hide(current.httpPlatformEnv) } : {})
  }
  return { before, maskedNames: [...masked] }
}

function journalDesired(plan: DeployPlan): JournalDesired {
  const { desired } = plan
  return {
    hosting: desired.hosting,
    pool: { name: desired.pool.name },
    app: { site: desired.app.site, path: desired.app.path, pool: desired.app.pool, physicalPath: desired.app.physicalPath },
    ...(desired.fastCgi ? { fastCgi: { fullPath: desired.fastCgi.fullPath, arguments: desired.fastCgi.arguments } } : {})
  }
}

export class JournalRecorder implements StepObserver {
  private constructor(
    readonly file: string,
    private readonly journal: RunJournal,
    private readonly secrets: string[]
  ) {}

  /**
   * Writes the journal before the first step; undefined when the plan makes no appcmd write (nothing to undo),
   * unless `always` (the SP config is about to change).
   */
  static begin(start: JournalStart, now = new Date(), always = false): JournalRecorder | undefined {
    const { plan } = start
    if (!plan.backupName && !always) return undefined
    const secrets = secretsOf(plan)
    const secretNames = new Set(
      [...(plan.desired.fastCgi?.env ?? []).filter(v => v.secret), ...plan.desired.httpPlatformSecretEnv].map(v => v.name.toLowerCase())
    )
    const { before, maskedNames } = maskedBefore(plan.current, secretNames)
    const target = { site: plan.desired.app.site, appPath: plan.desired.app.path }
    const journal: RunJournal = {
      version: JOURNAL_VERSION,
      target,
      releaseId: start.releaseId,
      releaseVerifiedBefore: start.releaseVerifiedBefore,
      startedAt: now.toISOString(),
      updatedAt: now.toISOString(),
      state: 'applying',
      backupName: plan.backupName,
      ...(plan.current.app.physicalPath ? { previousPhysicalPath: plan.current.app.physicalPath } : {}),
      ...(start.lastVerifiedRelease ? { lastVerifiedRelease: start.lastVerifiedRelease } : {}),
      before,
      maskedNames,
      desired: journalDesired(plan),
      locationRecord: start.locationRecord ?? null,
      steps: []
    }
    const recorder = new JournalRecorder(journalFileFor(plan.deployRoot, target), journal, secrets)
    recorder.write()
    return recorder
  }

  private write(): void {
    this.journal.updatedAt = new Date().toISOString()
    // Field by field, so a mask can never break the JSON around it.
    const safe = JSON.parse(JSON.stringify(this.journal), (_key, value: unknown) =>
      typeof value === 'string' ? maskSecrets(value, this.secrets) : value
    ) as RunJournal
    writeJournal(this.file, safe)
  }

  beforeStep(step: Step, index: number): void {
    const { phase, tool, argv, why, mutates } = step
    this.journal.steps.push({ index, phase, tool, argv: [...argv], why, mutates, status: 'started' })
    this.write()
  }

  afterStep(_step: Step, index: number): void {
    const entry = this.journal.steps.find(s => s.index === index)
    if (entry) entry.status = 'done'
    this.write()
  }

  stepFailed(_step: Step, index: number, error: Error): void {
    const entry = this.journal.steps.find(s => s.index === index)
    if (entry) Object.assign(entry, { status: 'failed', error: error.message })
    this.write()
  }

  /** The SP config is about to be written: recorded (and flushed) first. */
  spChange(entry: SpJournalEntry): void {
    this.journal.sp = entry
    this.write()
  }

  /** Apply ended: verify runs next. */
  applied(): void {
    this.journal.state = 'applied'
    this.write()
  }

  /** Verified, or rolled back completely: the next run has nothing to recover. */
  close(): void {
    closeJournal(this.file)
  }
}
