import { describe, expect, it } from 'vitest'
import { BACKOFF, DETECTION_BOUND_MS, MAX_INTERVAL_MS, nextSleep } from '../src/verify/schedule.js'

describe('nextSleep', () => {
  it('backs off by 1.5 from the starting interval while below the detection bound', () => {
    expect(nextSleep(100, 1, 0, 60_000)).toBe(100)
    expect(nextSleep(100, 2, 0, 60_000)).toBe(150)
    expect(nextSleep(100, 3, 0, 60_000)).toBe(225)
    expect(nextSleep(100, 4, 0, 60_000)).toBe(337)
    expect(BACKOFF).toBe(1.5)
  })

  it('never sleeps so long that a site healthy right after a failed poll waits more than the bound', () => {
    for (const interval of [10, 50, 250, 1000, 5000, 60_000]) {
      for (let attempt = 1; attempt <= 40; attempt++) {
        for (const requestMs of [0, 1, 30, 120, 499, 500, 750, 10_000]) {
          const sleep = nextSleep(interval, attempt, requestMs, 120_000)
          expect(sleep).toBeGreaterThanOrEqual(0)
          expect(sleep).toBeLessThanOrEqual(MAX_INTERVAL_MS)
          expect(sleep).toBeLessThanOrEqual(Math.max(0, DETECTION_BOUND_MS - requestMs))
        }
      }
    }
  })

  it('never sleeps past the time that is left', () => {
    expect(nextSleep(250, 5, 0, 120)).toBe(120)
    expect(nextSleep(250, 1, 0, -5)).toBe(0)
  })

  it('notices a site that turns healthy within the bound, in a simulated run', () => {
    // Virtual clock: each poll takes `requestMs`; the site is healthy from `healthyAt` on.
    for (const requestMs of [1, 40, 200]) {
      for (const healthyAt of [0, 333, 1234, 5000, 17_777]) {
        let now = 0
        let attempt = 0
        let detectedAt: number | undefined
        while (detectedAt === undefined) {
          const sentAt = now
          now += requestMs
          attempt++
          if (sentAt >= healthyAt) detectedAt = now
          else now += nextSleep(250, attempt, requestMs, 120_000 - now)
        }
        expect(detectedAt - healthyAt).toBeLessThanOrEqual(DETECTION_BOUND_MS + requestMs)
      }
    }
  })
})
