/** Each wait between polls grows by this factor. */
export const BACKOFF = 1.5
/** The backoff ceiling verify-interval documents. */
export const MAX_INTERVAL_MS = 2000
/**
 * A site that turns healthy must be noticed within this time. It is stricter than MAX_INTERVAL_MS, so it is
 * the bound that actually applies: the backoff only matters for intervals below it.
 */
export const DETECTION_BOUND_MS = 500
/** Below this much time left a request could not complete; the poll gives up instead. */
export const MIN_ATTEMPT_MS = 50

/**
 * How long to wait before the next poll. `attempt` counts the polls done (1 after the first). The wait plus the
 * last request's duration stays within DETECTION_BOUND_MS: a site that turns healthy right after a failed poll
 * is asked again (and, if requests take about as long as the last one, answers) within the bound. A request
 * that alone took longer than the bound is followed at once.
 */
export function nextSleep(intervalMs: number, attempt: number, lastRequestMs: number, remainingMs: number): number {
  const backedOff = Math.min(intervalMs * BACKOFF ** Math.max(0, attempt - 1), MAX_INTERVAL_MS)
  const detectionCap = Math.max(0, DETECTION_BOUND_MS - lastRequestMs)
  return Math.max(0, Math.floor(Math.min(backedOff, detectionCap, remainingMs)))
}
