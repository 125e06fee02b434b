import fs from 'node:fs'
import path from 'node:path'

/**
 * Where handlers were unlocked by us, kept under deploy-root. The three state reads cannot show a location's
 * lock (that takes a fourth read per deploy, `list config "S/app" -section:system.webServer/handlers`), and the
 * unlock itself is a write, so a no-op redeploy trusts this record instead. It is written only after an apply
 * that unlocked succeeded and put back by a rollback, so it never claims an unlock a restored backup undid.
 */
export const UNLOCK_RECORD_FILE = 'iis-state.json'

interface Record {
  handlersUnlocked: string[]
}

export class UnlockRecord {
  private constructor(
    private readonly file: string,
    /** The file's bytes when read, to put back on rollback; undefined when it did not exist. */
    readonly original: string | undefined
  ) {}

  static read(deployRoot: string): UnlockRecord {
    const file = path.join(deployRoot, UNLOCK_RECORD_FILE)
    let original: string | undefined
    try {
      original = fs.readFileSync(file, 'utf8')
    } catch {
      original = undefined
    }
    return new UnlockRecord(file, original)
  }

  private locations(): string[] {
    try {
      const parsed = JSON.parse(this.original ?? '{}') as Partial<Record>
      return Array.isArray(parsed.handlersUnlocked) ? parsed.handlersUnlocked : []
    } catch {
      return []
    }
  }

  has(location: string): boolean {
    return this.locations().some(l => l.toLowerCase() === location.toLowerCase())
  }

  add(location: string): void {
    if (this.has(location)) return
    const next: Record = { handlersUnlocked: [...this.locations(), location] }
    this.write(`${JSON.stringify(next, null, 2)}\n`)
  }

  /** Back to what was read. */
  restore(): void {
    if (this.original === undefined) fs.rmSync(this.file, { force: true })
    else this.write(this.original)
  }

  private write(text: string): void {
    fs.mkdirSync(path.dirname(this.file), { recursive: true })
    const tmp = `${this.file}.${process.pid}.tmp`
    fs.writeFileSync(tmp, text)
    fs.renameSync(tmp, this.file)
  }
}
