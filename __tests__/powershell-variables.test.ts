// A variable the shipped PowerShell reads and never assigns is a misspelling that only a Windows run would show:
// $null in a workflow step, a stopped probe under Set-StrictMode (__tests__/support/powershell-variables.ts).
import { describe, expect, it } from 'vitest'
import { unassignedVariables } from './support/powershell-variables.js'
import { shippedPowerShell } from './support/shipped-powershell.js'

const described = async (text: string, edition: '5.1' | '7' = '5.1') =>
  (await unassignedVariables(text, edition)).map(r => `${r.line} ${r.name}`)

describe('PowerShell variables', () => {
  it('finds a variable read and never assigned', async () => {
    expect(await described('$target = "C:\\\\x"\nTest-Path $targte\nWrite-Output "at $targte"')).toEqual(['2 $targte'])
    expect(await described('function Save([string]$Id) { Write-Output "$Id $Idd" }')).toEqual(['1 $Idd'])
    expect(await described('foreach ($l in $lines) { $l }')).toEqual(['1 $lines'])
    expect(await described('$who = "x"\n$msg = @"\nhello\n$whom\n"@')).toEqual(['4 $whom'])
    // A parameter's attribute is not the parameter.
    expect(await described('function F {\n  param([Parameter(Mandatory = $true)][string]$Name)\n  $Nmae\n}')).toEqual(['3 $Nmae'])
    // Set only in PowerShell 7, and documented but never set by PowerShell.
    expect(await described('if ($IsWindows) { 1 }', '5.1')).toEqual(['1 $IsWindows'])
    expect(await described('if ($IsWindows) { 1 }', '7')).toEqual([])
    expect(await described('"$OFS"', '7')).toEqual(['1 $OFS'])
  })

  it('accepts what the script or PowerShell assigns', async () => {
    const valid = [
      '$a = 1\n$a',
      '[string]$typed = "x"\n$typed',
      '$first, $second = 1, 2\n"$first$second"',
      'function F {\n  param([string]$Name)\n  $Name\n}',
      'function G([int]$x) { $x }',
      '$block = { param($q) $q }',
      'foreach ($item in @(1, 2)) { $item }',
      '$n = $null\n[int]::TryParse("1", [ref]$n) | Out-Null',
      '[int]::TryParse("1", [ref]$parsed) | Out-Null\n$parsed',
      '$script:count = 0\n$count',
      '${odd name} = 1\n${odd name}',
      'Write-Output "$env:TEMP $PSScriptRoot $LASTEXITCODE $_ $true $null $ErrorActionPreference"',
      'if ("a" -match "a") { $Matches[0] }',
      '$who = "x"\n$msg = @"\nhello\n$who\n"@',
      'function H {\n  param([Parameter(Mandatory = $true)][string]$Name)\n  $Name\n}',
      'Get-Item x -ErrorVariable failed -OutVariable +found\n$failed; $found',
      "Set-Variable -Name 'late' -Value 1\nNew-Variable early 2\n$late + $early"
    ]
    for (const text of valid) expect(await described(text), text).toEqual([])
  })

  it('the shipped PowerShell reads no variable it never assigns', async () => {
    const scripts = shippedPowerShell()
    expect(scripts.length).toBeGreaterThan(10)
    for (const script of scripts) expect(await described(script.text, script.edition), script.name).toEqual([])
  })
})
