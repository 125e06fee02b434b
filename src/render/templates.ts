import fs from 'node:fs'
import path from 'node:path'
import Handlebars from 'handlebars'
import { templatesDir as bundledTemplatesDir } from '../assets.js'
import { InputError } from '../errors.js'
import { parseXmlStrict, xmlEscape } from './xml.js'

/** Template values are strings, numbers and booleans; anything else is a bug in the caller, not text to print. */
function templateText(value: unknown): string {
  if (typeof value === 'string') return value
  if (typeof value === 'number' || typeof value === 'boolean') return String(value)
  throw new Error(`template value of type ${typeof value} cannot be rendered as text`)
}

export type TemplateName = 'app-web.config' | 'static-web.config' | 'media-web.config' | 'httpplatform-web.config' | 'shibboleth2.xml'

/**
 * Templates are data: the bundled ones, each replaceable by a file of the same name in the user's templates folder.
 * One isolated Handlebars environment, so our helpers never leak into another bundle's.
 */
export class TemplateSet {
  private readonly hb = Handlebars.create()
  private readonly compiled = new Map<TemplateName, { file: string; fn: Handlebars.TemplateDelegate }>()

  constructor(private readonly overrideDir = '') {
    // {{xml v}} escapes for XML without Handlebars's HTML entities (&#x3D; for '=' is valid but unreadable in paths).
    // strict mode does not reach helper arguments, so the helper itself refuses an unknown variable.
    this.hb.registerHelper('xml', (value: unknown, options: Handlebars.HelperOptions) => {
      if (value === undefined || value === null) {
        throw new Error(
          `template variable used at line ${(options as { loc?: { start: { line: number } } }).loc?.start.line ?? '?'} is not defined`
        )
      }
      return new Handlebars.SafeString(xmlEscape(templateText(value)))
    })
    // {{comment v}}: like xml, for text inside <!-- -->, which must not hold "--" (a site name or release id may).
    this.hb.registerHelper(
      'comment',
      (value: unknown) => new Handlebars.SafeString(xmlEscape(templateText(value ?? '')).replace(/-(?=-)/g, '- '))
    )
  }

  /** The file a template comes from: the user's override when there is one. */
  fileOf(name: TemplateName): string {
    const override = this.overrideDir ? path.join(this.overrideDir, `${name}.hbs`) : ''
    return override && fs.existsSync(override) ? override : path.join(bundledTemplatesDir(), `${name}.hbs`)
  }

  private load(name: TemplateName): { file: string; fn: Handlebars.TemplateDelegate } {
    const cached = this.compiled.get(name)
    if (cached) return cached
    const file = this.fileOf(name)
    const source = fs.readFileSync(file, 'utf8')
    try {
      // compile() is lazy: parse now, so a syntax error stops the run before anything is created.
      this.hb.parse(source)
    } catch (e) {
      const message = (e as Error).message
      const line = /line (\d+)/.exec(message)?.[1]
      throw new InputError(
        'templates',
        `${file}${line ? `:${line}` : ''}: template syntax error: ${message.split('\n')[0]}; fix the template`
      )
    }
    // strict: a misspelt variable is an error, not an empty attribute that IIS later rejects.
    const fn = this.hb.compile(source, { strict: true })
    const entry = { file, fn }
    this.compiled.set(name, entry)
    return entry
  }

  /** Renders and parses the result as XML; a template that yields malformed XML is reported by file. */
  render(name: TemplateName, data: object): string {
    const { file, fn } = this.load(name)
    let text: string
    try {
      text = fn(data)
    } catch (e) {
      throw new InputError('templates', `${file}: ${(e as Error).message.split('\n')[0]}; use only the variables the bundled template uses`)
    }
    try {
      parseXmlStrict(text, `${name} rendered from ${file}`)
    } catch (e) {
      throw new InputError('templates', `${(e as Error).message}; fix the template`)
    }
    return text
  }

  /** Compiles every template up front, so a syntax error stops the run before anything is created. */
  checkAll(names: readonly TemplateName[]): void {
    for (const name of names) this.load(name)
  }
}
