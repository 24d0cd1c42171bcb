; Inno Setup script for Reverie (called by build.ps1 with AppVersion, SourceDir, IconFile).
; Installs per user (no administrator), adds a Start menu entry, and offers to start
; Reverie at login (the same Run value `reverie autostart on` writes).
#ifndef AppVersion
  #define AppVersion "0.0.0"
#endif

[Setup]
AppId={{6B0F2C1E-6A3B-4E8F-9C1D-2E7A5B4C3D21}
AppName=Reverie
AppVersion={#AppVersion}
AppPublisher=Reverie developers
DefaultDirName={localappdata}\Programs\Reverie
DefaultGroupName=Reverie
PrivilegesRequired=lowest
OutputBaseFilename=Reverie-Setup
SetupIconFile={#IconFile}
UninstallDisplayIcon={app}\reverie.exe
Compression=lzma2/ultra64
SolidCompression=yes
ArchitecturesAllowed=x64compatible
ArchitecturesInstallIn64BitMode=x64compatible
WizardStyle=modern

[Files]
Source: "{#SourceDir}\*"; DestDir: "{app}"; Flags: recursesubdirs ignoreversion

[Icons]
Name: "{group}\Reverie"; Filename: "{app}\reverie.exe"
Name: "{group}\Uninstall Reverie"; Filename: "{uninstallexe}"

[Tasks]
Name: "autostart"; Description: "Start Reverie when I log in"; Flags: unchecked

[Registry]
Root: HKCU; Subkey: "Software\Microsoft\Windows\CurrentVersion\Run"; ValueType: string; \
  ValueName: "Reverie"; ValueData: """{app}\reverie.exe"""; Tasks: autostart; \
  Flags: uninsdeletevalue

[Run]
Filename: "{app}\reverie.exe"; Description: "Open Reverie"; Flags: nowait postinstall skipifsilent
