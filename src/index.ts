/** The action's entry point: nothing but the call, so importing main.ts (tests, demo) runs nothing. */
import v8 from 'node:v8'
import { run } from './main.js'

// A deploy is process starts and file metadata, not hot JavaScript: V8's small-heap mode lets the young generation
// grow less between collections. Walking and fingerprinting 50,000 files peaked at ~155 MB RSS without it and
// ~110 MB with it, in no more time (npm run bench, memory row). The runner starts node itself, so it is set here.
v8.setFlagsFromString('--optimize-for-size')

await run()
