import net from 'node:net'

/**
 * A port free on 127.0.0.1 now: the system picks it for a listener on port 0, which is closed again at once
 * (docs/windows-facts.md, ps-free-port). Another program may take it before the caller binds it, so the caller
 * must treat "the port is taken" as a failure of its own step.
 */
export function freeLoopbackPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer()
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const address = server.address()
      const port = typeof address === 'object' && address ? address.port : 0
      server.close(() => resolve(port))
    })
  })
}
