/** A problem with one action input: reported as one line naming the input and the fix, before anything changes. */
export class InputError extends Error {
  constructor(
    readonly input: string,
    readonly problem: string
  ) {
    super(`Input '${input}': ${problem}`)
    this.name = 'InputError'
  }
}

/** A failure in one phase of the run; `hint` says what to change, when a cause is known. */
export class PhaseError extends Error {
  constructor(
    readonly phase: string,
    message: string,
    readonly hint?: string,
    options?: { cause?: unknown; rolledBack?: boolean; beforeSwitch?: boolean }
  ) {
    super(message, options)
    this.name = 'PhaseError'
    this.rolledBack = options?.rolledBack ?? false
    this.beforeSwitch = options?.beforeSwitch ?? false
  }

  /** The failure came after changes began, and they were undone. */
  readonly rolledBack: boolean
  /** A verify failure that came before the live app was switched: the old release served throughout. */
  readonly beforeSwitch: boolean
}

/** Whatever was thrown, as an Error: a thrown string or object must not vanish into "undefined". */
export function asError(thrown: unknown): Error {
  if (thrown instanceof Error) return thrown
  if (typeof thrown === 'string') return new Error(thrown)
  try {
    return new Error(`non-Error thrown: ${JSON.stringify(thrown)}`)
  } catch {
    return new Error(`non-Error thrown: ${String(thrown)}`)
  }
}
