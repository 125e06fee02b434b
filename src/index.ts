/** The action's entry point: nothing but the call, so importing main.ts (tests, demo) runs nothing. */
import { run } from './main.js'

await run()
