import * as io from '@actions/io'
import { InputError } from '../errors.js'

/**
 * A program the deploy needs must exist before anything is staged, so a runner without IIS fails at once.
 * io.which searches as @actions/exec does when it starts the program: this process's PATH, and PATHEXT on Windows.
 */
export async function requireProgram(input: string, program: string): Promise<void> {
  if (await io.which(program)) return
  throw new InputError(
    input,
    `${program} was not found on this machine; deploy mode needs IIS (with ${input}) on the runner, or use mode: stage or plan`
  )
}
