import { defineConfig } from 'vitest/config'

// Three tiers, all run by `npm test`:
// - unit: in-process tests (appcmd and icacls answered by the doubles' cores through the test runner), `npm run test:unit`;
// - integration: real Python, pip, Django, shibd and HTTP servers;
// - smoke: the bundled action (dist/index.js) run as GitHub's runner runs it, rebuilt first when stale.
const SMOKE = [
  '__tests__/action-modes.test.ts',
  '__tests__/crash-kill.test.ts',
  '__tests__/deploy-e2e.test.ts',
  '__tests__/deploy-httpplatform-e2e.test.ts',
  '__tests__/interrupted-verify-e2e.test.ts'
]
const INTEGRATION = [
  '__tests__/bad-input.test.ts',
  '__tests__/data-paths.test.ts',
  '__tests__/hostile-values.test.ts',
  '__tests__/iis-standin.test.ts',
  '__tests__/interpreter-cache.test.ts',
  '__tests__/lock-processes.test.ts',
  '__tests__/migrate-plan.test.ts',
  '__tests__/noop-overlap.test.ts',
  '__tests__/migrate-postgres.test.ts',
  '__tests__/migrate-sqlite.test.ts',
  '__tests__/pre-switch-iis.test.ts',
  '__tests__/python-django.test.ts',
  '__tests__/python-finish.test.ts',
  '__tests__/python-venv.test.ts',
  '__tests__/read-beside-stage.test.ts',
  '__tests__/restore-point.test.ts',
  '__tests__/render.test.ts',
  '__tests__/rollback-mode.test.ts',
  '__tests__/server-preflight.test.ts',
  '__tests__/shared-media-e2e.test.ts',
  '__tests__/shibboleth-apply.test.ts',
  '__tests__/sp-crash-recovery.test.ts',
  '__tests__/shibboleth-leave.test.ts',
  '__tests__/shibboleth-patch.test.ts',
  '__tests__/shibboleth-recycle.test.ts',
  '__tests__/stage-django.test.ts',
  '__tests__/static-share.test.ts',
  '__tests__/verify-checks.test.ts',
  '__tests__/verify-give-up.test.ts',
  '__tests__/verify-waitress.test.ts'
]

export default defineConfig({
  test: {
    // Integration tests start real Python, pip and HTTP servers: give them room, and run files in parallel
    // only as far as a 2-core machine allows.
    testTimeout: 120_000,
    hookTimeout: 120_000,
    fileParallelism: true,
    maxWorkers: 2,
    // @actions/workflow-parser imports its JSON schemas without an import attribute, which only a bundler
    // accepts: let vite transform it instead of handing it to Node.
    server: { deps: { inline: ['@actions/workflow-parser'] } },
    projects: [
      { extends: true, test: { name: 'unit', include: ['__tests__/**/*.test.ts'], exclude: [...SMOKE, ...INTEGRATION] } },
      { extends: true, test: { name: 'integration', include: INTEGRATION } },
      { extends: true, test: { name: 'smoke', include: SMOKE, globalSetup: ['__tests__/support/fresh-bundle.ts'] } }
    ]
  }
})
