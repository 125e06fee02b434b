import { describe, expect, it } from 'vitest'
import { deferredLog } from '../src/deferred-log.js'
import { captureLog } from './support/iis-test-log.js'

describe('a deferred log', () => {
  it('holds every line until flush, then prints them once, in order, with their annotations', async () => {
    const target = captureLog()
    const warnings: unknown[] = []
    const warning = target.warning.bind(target)
    target.warning = (message, props) => {
      warnings.push(props)
      warning(message, props)
    }
    const deferred = deferredLog(target)
    deferred.log.info('one')
    deferred.log.debug('two')
    deferred.log.warning('three', { title: 'T' })
    expect(await deferred.log.group('inside', async () => 42)).toBe(42)
    deferred.log.error('four')
    expect(target.lines).toEqual([])
    deferred.flush()
    expect(target.lines).toEqual(['info: one', 'debug: two', 'warning: three', 'error: four'])
    expect(warnings).toEqual([{ title: 'T' }])
    deferred.flush()
    expect(target.lines).toHaveLength(4)
  })

  it('registers a secret at once, so a line held back is masked when printed', () => {
    const target = captureLog()
    const deferred = deferredLog(target)
    deferred.log.info('token s3cret-value-123 here')
    deferred.log.secret('s3cret-value-123')
    expect(target.redact('s3cret-value-123')).toBe('***')
    deferred.flush()
    expect(target.lines).toEqual(['info: token *** here'])
  })
})
