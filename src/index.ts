/** The action's entry point: nothing but the call, so importing main.ts (tests, demo) runs nothing. */
import v8 from 'node:v8'
import { run } from './main.js'

// V8's small-heap mode keeps node's peak RSS for a 50,000-file project under the 150 MB goal (~130 MB with it, ~190 MB
// without, npm run bench, memory rows). It costs time, more the larger the project (figures in the README's Speed
// section), and a 2 MB young generation alone did not keep RSS down. The runner starts node itself, so it is set here.
v8.setFlagsFromString('--optimize-for-size')

await run()
