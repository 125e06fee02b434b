import { locationPath } from './app-location.js'
import { poolPasswordRecord } from '../plan/identity-ops.js'
import type { DesiredState } from '../plan/types.js'
import type { LocationRecord } from './location-record.js'
import type { CurrentState } from './state.js'

/**
 * After an apply succeeded: what the record must say of the pool's password (a salted hash, never the password)
 * and of Windows Authentication, so the next run's diff sees a no-op as one (src/plan/identity-ops.ts, auth-ops.ts).
 */
export function rememberIdentityAndAuth(record: LocationRecord, desired: DesiredState, before: CurrentState): void {
  const loc = locationPath(desired.app)
  const windows = desired.auth?.mode === 'windows' ? { useAppPoolCredentials: desired.auth.useAppPoolCredentials } : undefined
  record.setExtra('windowsAuth', loc, windows)
  record.setExtra('poolPassword', loc, poolPasswordRecord(desired.pool, before.poolPassword))
}
