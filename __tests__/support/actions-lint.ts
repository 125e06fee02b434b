// Validates workflow and action metadata files with GitHub's own parser (@actions/workflow-parser, the one
// behind the GitHub Actions language service): YAML shape, keys, expression syntax and which contexts each
// key allows.
import { NoOperationTraceWriter, convertWorkflowTemplate, parseWorkflow } from '@actions/workflow-parser'
import { convertActionTemplate, parseAction } from '@actions/workflow-parser/actions/index'

export interface LintProblem {
  file: string
  message: string
}

export async function lintWorkflow(name: string, content: string): Promise<LintProblem[]> {
  const parsed = parseWorkflow({ name, content }, new NoOperationTraceWriter())
  const problems = parsed.context.errors.getErrors().map(e => ({ file: name, message: e.message }))
  if (parsed.value === undefined) return problems
  // Conversion adds the semantic checks (jobs, needs, matrices, reusable-workflow calls).
  const template = await convertWorkflowTemplate(parsed.context, parsed.value)
  const seen = new Set(problems.map(p => p.message))
  for (const e of template.errors ?? []) {
    if (!seen.has(e.Message)) problems.push({ file: name, message: e.Message })
  }
  return problems
}

export function lintAction(name: string, content: string): LintProblem[] {
  const parsed = parseAction({ name, content }, new NoOperationTraceWriter())
  if (parsed.value !== undefined) convertActionTemplate(parsed.context, parsed.value)
  return parsed.context.errors.getErrors().map(e => ({ file: name, message: e.message }))
}
