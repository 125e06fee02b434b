// One contender for the lock-processes test, as a real process: for each trial it waits for the trial's start
// time (so all contenders hit the lock together), takes the lock, writes "enter" to the shared journal, holds
// the lock a while, writes "exit" and releases. Appends to one file are ordered, so two "enter" lines of a
// trial without an "exit" between them mean two holders at once.
// argv: <compiled lock module> <trials json> <journal> <name>
import fs from 'node:fs'

const [lockModule, trialsFile, journal, name] = process.argv.slice(2)

// A loaded machine may pause a process between any two file-system calls: each call of the lock module is
// delayed by a random 0-5 ms, so the interleavings the scheduler makes rare happen in every trial.
const pause = new Int32Array(new SharedArrayBuffer(4))
for (const call of [
  'readFileSync',
  'writeFileSync',
  'rmSync',
  'unlinkSync',
  'openSync',
  'writeSync',
  'closeSync',
  'statSync',
  'fstatSync',
  'renameSync',
  'linkSync',
  'mkdirSync',
  'readdirSync'
]) {
  const real = fs[call]
  fs[call] = (...args) => {
    Atomics.wait(pause, 0, 0, Math.random() * 5)
    return real(...args)
  }
}
const { acquireLock } = await import(lockModule)
const trials = JSON.parse(fs.readFileSync(trialsFile, 'utf8'))
const quiet = { info() {}, debug() {}, warning() {}, error() {}, group: (_n, fn) => fn(), secret() {}, redact: t => t }
const sleep = ms => new Promise(resolve => setTimeout(resolve, ms))

for (const trial of trials) {
  while (Date.now() < trial.startAt) await sleep(Math.min(5, trial.startAt - Date.now()))
  const lock = await acquireLock({
    dir: trial.dir,
    site: 'Default Web Site',
    appPath: '/app',
    runId: name,
    timeoutMs: 20000,
    log: quiet,
    pollMs: 5,
    ...trial.options
  })
  fs.appendFileSync(journal, `enter ${trial.id} ${name}\n`)
  await sleep(trial.holdMs)
  fs.appendFileSync(journal, `exit ${trial.id} ${name}\n`)
  lock.release()
}
