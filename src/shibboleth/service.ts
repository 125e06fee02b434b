import { PhaseError } from '../errors.js'
import type { Operation } from '../plan/types.js'
import type { ProcessRunner } from '../process.js'

/** net.exe's messages for a stop of a stopped service (NET HELPMSG 3521) and a start of a started one (2182). */
const NOT_STARTED = /service is not started|HELPMSG 3521/i
const ALREADY_STARTED = /already been started|HELPMSG 2182/i

export interface ServiceControl {
  service: string
  /** net.exe, or a double in tests. */
  net: string
}

/** The restart as plan operations: printed in plan mode, run in this order by restartService. */
export function restartOperations({ service, net }: ServiceControl): Operation[] {
  return [
    {
      tool: 'shibboleth',
      argv: [net, 'stop', service],
      why: 'shibd reads shibboleth2.xml at start: stop it to load the patched file',
      mutates: true
    },
    { tool: 'shibboleth', argv: [net, 'start', service], why: 'start shibd with the patched shibboleth2.xml', mutates: true }
  ]
}

/** Stops and starts the SP service; a service that was already stopped is started all the same. */
export async function restartService(runner: ProcessRunner, control: ServiceControl): Promise<void> {
  for (const op of restartOperations(control)) {
    const [file, ...args] = op.argv as [string, ...string[]]
    const result = await runner.run(file, args)
    if (result.exitCode === 0) continue
    const said = `${result.stdout}\n${result.stderr}`
    if (args[0] === 'stop' && NOT_STARTED.test(said)) continue
    if (args[0] === 'start' && ALREADY_STARTED.test(said)) continue
    throw new PhaseError(
      'shibboleth',
      `'${op.argv.join(' ')}' failed (exit ${result.exitCode}): ${said.trim().split(/\r?\n/).filter(Boolean).join(' ')}`,
      `check that the service ${control.service} exists (sc query ${control.service}) and that the runner's account may control it; set shibboleth-service to its name`
    )
  }
}
