// Crash injection for the kill -9 tests (__tests__/crash-kill.test.ts), in the programs the action runs: the appcmd
// and icacls doubles (double-shim.mjs). Off unless DIIS_TEST_KILL_LOG is set.
//
// Environment:
//   DIIS_TEST_KILL_LOG     file: every hooked call appends one line (its label) when it starts, so a run's calls are
//                          counted across processes, in the order the action made them (it runs them one at a time)
//   DIIS_TEST_KILL_AFTER   k (1-based): once the k-th hooked call has done its work (the double wrote its state),
//                          the program kills its parent, the action, with SIGKILL before answering it
//   DIIS_TEST_KILL_BEFORE  k: the k-th hooked call kills the action instead of running: its journal says the step
//                          started, and nothing reached the server
import fs from 'node:fs'

/** Records the call; true when this call is the one to kill the action before. */
export function beforeHookedCall(label) {
  const log = process.env.DIIS_TEST_KILL_LOG
  if (!log) return false
  fs.appendFileSync(log, `${label.replace(/\s+/g, ' ')}\n`)
  const k = Number(process.env.DIIS_TEST_KILL_BEFORE)
  if (k > 0 && countOf(log) === k) return killParent()
  return false
}

/** After the call did its work: kills the action when this was the k-th hooked call. */
export function afterHookedCall() {
  const log = process.env.DIIS_TEST_KILL_LOG
  const k = Number(process.env.DIIS_TEST_KILL_AFTER)
  if (log && k > 0 && countOf(log) === k) killParent()
}

function countOf(log) {
  return fs
    .readFileSync(log, 'utf8')
    .split('\n')
    .filter(l => l !== '').length
}

// The action runs its programs without a shell (@actions/exec), and the doubles' sh wrappers exec node: the
// parent of this process is the action itself.
function killParent() {
  process.kill(process.ppid, 'SIGKILL')
  return true
}
