; Inno Setup 6 script for LLM Playground: installs the PyInstaller one-folder app with a Start
; menu entry, an optional desktop icon and an uninstaller. Built by build_windows.ps1:
;   iscc /DAppVersion=0.1.0 /DSourceDir=...\packaging\dist\llm-playground
;        /DIconFile=...\llm-playground.ico /DOutputDir=...\packaging\dist llm-playground.iss

#ifndef AppVersion
  #define AppVersion "0.0.0"
#endif
#ifndef SourceDir
  #define SourceDir "..\dist\llm-playground"
#endif
#ifndef IconFile
  #define IconFile "..\build\llm-playground.ico"
#endif
#ifndef OutputDir
  #define OutputDir "..\dist"
#endif
#define AppName "LLM Playground"
#define AppExe "llm-playground.exe"

[Setup]
AppId={{6C1D4C55-6E0B-4D7B-9E56-0F1C8A0B9D21}
AppName={#AppName}
AppVersion={#AppVersion}
AppPublisher=LLM Playground developers
DefaultDirName={autopf}\{#AppName}
DefaultGroupName={#AppName}
; Per-user install by default (no admin rights needed); the user may choose all users.
PrivilegesRequired=lowest
PrivilegesRequiredOverridesAllowed=dialog
ArchitecturesAllowed=x64compatible
ArchitecturesInstallIn64BitMode=x64compatible
OutputDir={#OutputDir}
OutputBaseFilename=LLM-Playground-{#AppVersion}-windows-x64-setup
SetupIconFile={#IconFile}
UninstallDisplayIcon={app}\{#AppExe}
Compression=lzma2
SolidCompression=yes
LZMANumBlockThreads=4
WizardStyle=modern
DisableProgramGroupPage=yes

[Tasks]
Name: "desktopicon"; Description: "{cm:CreateDesktopIcon}"; GroupDescription: "{cm:AdditionalIcons}"; Flags: unchecked

[Files]
Source: "{#SourceDir}\*"; DestDir: "{app}"; Flags: ignoreversion recursesubdirs createallsubdirs

[Icons]
Name: "{group}\{#AppName}"; Filename: "{app}\{#AppExe}"
Name: "{autodesktop}\{#AppName}"; Filename: "{app}\{#AppExe}"; Tasks: desktopicon

[Run]
Filename: "{app}\{#AppExe}"; Description: "{cm:LaunchProgram,{#AppName}}"; Flags: nowait postinstall skipifsilent
