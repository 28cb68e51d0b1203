# Conformance: the PowerShell mirror of run.sh.
#   ./run.ps1 [--agent NAME|URL] [--runtime process|docker] [--mediator embedded|DID|URL] [--suite RFC0160,...] [--parallel N]   run the suites
#   ./run.ps1 test            build and run the project's own tests (what CI runs)
#   ./run.ps1 fixtures [--accept]   verify (or rewrite) the golden wire fixtures
#   ./run.ps1 interop [--agents reference,credo] [--runtime process]   every ordered pair of agents: the interop matrix
#   ./run.ps1 cli ARGS...     run the `conformance` command-line tool
#   ./run.ps1 bench ...       benchmarks (Release build)
# Exit codes: 0 ok, 1 a case or test failed, 2 usage error.
$ErrorActionPreference = 'Stop'
Set-Location $PSScriptRoot
$env:DOTNET_CLI_TELEMETRY_OPTOUT = '1'; $env:DOTNET_NOLOGO = '1'

function Build([string]$Configuration = 'Debug') {
    dotnet build "$PSScriptRoot/Conformance.sln" -c $Configuration -nologo -v q -clp:ErrorsOnly | Out-Host
    if ($LASTEXITCODE -ne 0) { Write-Error 'run.ps1: build failed'; exit 1 }
}
function CliDll([string]$Configuration = 'Debug') { "$PSScriptRoot/src/Conformance.Cli/bin/$Configuration/net10.0/conformance.dll" }

$verb = if ($args.Count -gt 0) { $args[0] } else { '' }
$rest = if ($args.Count -gt 1) { $args[1..($args.Count - 1)] } else { @() }
switch ($verb) {
    'test' {
        Build
        $log = New-TemporaryFile
        dotnet test "$PSScriptRoot/Conformance.sln" --no-build -nologo @rest | Tee-Object -FilePath $log
        $rc = $LASTEXITCODE
        $p = 0; $f = 0; $s = 0
        foreach ($line in Get-Content $log) {
            if ($line -match 'Failed:\s*(\d+),\s*Passed:\s*(\d+),\s*Skipped:\s*(\d+)') { $f += [int]$Matches[1]; $p += [int]$Matches[2]; $s += [int]$Matches[3] }
        }
        Write-Output "$p passed, $f failed, $s skipped"
        Remove-Item $log
        exit $rc
    }
    'cli'      { if (-not (Test-Path (CliDll))) { Build }; dotnet (CliDll) @rest; exit $LASTEXITCODE }
    'fixtures' { Build; dotnet (CliDll) fixtures @rest; exit $LASTEXITCODE }
    'interop'  { Build; dotnet (CliDll) interop @rest; exit $LASTEXITCODE }
    'bench'    { Build 'Release'; dotnet (CliDll 'Release') bench @rest; exit $LASTEXITCODE }
    { $_ -in 'help', '-h', '--help' } { Get-Content $PSCommandPath | Select-Object -Skip 1 -First 8 | ForEach-Object { $_ -replace '^# ?', '' }; exit 0 }
    default    { Build; dotnet (CliDll) run @args; exit $LASTEXITCODE }
}
