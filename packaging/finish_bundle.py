"""Finish a Linux one-folder bundle after PyInstaller: strip shared libraries and check them.

    python packaging/finish_bundle.py prune  packaging/dist/llm-playground
    python packaging/finish_bundle.py strip  packaging/dist/llm-playground
    python packaging/finish_bundle.py check  packaging/dist/llm-playground

`prune` removes the libraries PyInstaller copied from the build host beside the executable that
nothing left in the bundle needs: PyInstaller resolves dependencies before the spec drops plugins,
so the GTK theme plugin's whole stack (GTK, cairo, pango...) would otherwise stay behind, and
the target's own system libraries would load these copies through LD_LIBRARY_PATH.

`strip` removes symbols from the bundle's .so files except those vendored in *.libs folders
(stripping numpy's OpenBLAS breaks it). The executable is left alone: in a one-folder build it
carries its archive appended, which strip would cut off.
`check` runs ldd on every shared library as the bootloader would load it, lists what is
missing and the system libraries (and their Debian packages) the bundle still needs.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import bundle_rules  # noqa: E402


def shared_libraries(bundle: Path):
    """(path, path relative to the bundle's _internal folder) of each ELF shared library."""
    internal = bundle / "_internal"
    for path in sorted(internal.rglob("*")):
        if path.is_symlink() or not path.is_file():
            continue
        if not (path.name.endswith(".so") or ".so." in path.name):
            continue
        with open(path, "rb") as f:
            if f.read(4) != b"\x7fELF":
                continue
        yield path, path.relative_to(internal).as_posix()


def _needed(path: Path) -> set[str]:
    out = subprocess.run(["readelf", "-d", str(path)], capture_output=True, text=True).stdout
    return set(re.findall(r"\(NEEDED\)\s+Shared library: \[(.+?)\]", out))


def prune(bundle: Path) -> int:
    if shutil.which("readelf") is None:
        print("readelf not found (install binutils): nothing pruned", file=sys.stderr)
        return 0
    internal = bundle / "_internal"
    # Top-level libraries: host copies and links into package folders, found by soname.
    top = {p.name: p for p in internal.iterdir() if ".so" in p.name and (p.is_file() or p.is_symlink())}
    needs = {rel: _needed(path) for path, rel in shared_libraries(bundle)}
    wanted: list[str] = [n for rel, names in needs.items() if "/" in rel for n in names]
    wanted += [n for n in top if n.startswith("libpython")]
    reached: set[str] = set()
    while wanted:
        name = wanted.pop()
        if name in reached:
            continue
        reached.add(name)
        if name in top and top[name].exists():
            wanted += needs.get(top[name].resolve().relative_to(internal.resolve()).as_posix(), ())
    removed = 0
    for name in sorted(set(top) - reached):
        path = top[name]
        removed += 0 if path.is_symlink() else path.stat().st_size
        path.unlink()
        print(f"  pruned {name}")
    print(f"pruned {len(set(top) - reached)} unused libraries ({removed / 2**20:,.1f} MiB)")
    return 0


def strip(bundle: Path) -> int:
    if shutil.which("strip") is None:
        print("strip not found (install binutils): the bundle stays unstripped", file=sys.stderr)
        return 1
    before = after = 0
    count = 0
    for path, rel in shared_libraries(bundle):
        if not bundle_rules.strip_allowed(rel):
            continue
        size = path.stat().st_size
        result = subprocess.run(["strip", "--strip-unneeded", str(path)], capture_output=True, text=True)
        if result.returncode != 0:
            print(f"  not stripped: {rel}: {result.stderr.strip()}", file=sys.stderr)
            continue
        before += size
        after += path.stat().st_size
        count += 1
    print(f"stripped {count} libraries: {before / 2**20:,.0f} MiB -> {after / 2**20:,.0f} MiB")
    return 0


def check(bundle: Path) -> int:
    internal = bundle / "_internal"
    env = dict(os.environ, LD_LIBRARY_PATH=str(internal))  # what the bootloader sets
    missing: dict[str, set[str]] = {}
    system: dict[str, str] = {}
    for path, rel in shared_libraries(bundle):
        out = subprocess.run(["ldd", str(path)], capture_output=True, text=True, env=env).stdout
        for line in out.splitlines():
            m = re.match(r"\s*(\S+) => (not found|(\S+))", line)
            if not m:
                continue
            name, target = m.group(1), m.group(2)
            if target == "not found":
                missing.setdefault(name, set()).add(rel)
            elif not Path(target).resolve().is_relative_to(internal.resolve()):
                system[name] = str(Path(target).resolve())
    for name, users in sorted(missing.items()):
        print(f"  MISSING {name} (needed by {', '.join(sorted(users)[:3])})")
    packages = _debian_packages(system.values())
    print(f"system libraries used: {len(system)}; their Debian packages: {', '.join(sorted(packages)) or '?'}")
    return 1 if missing else 0


def _debian_packages(paths) -> set[str]:
    if shutil.which("dpkg") is None:
        return set()
    out = subprocess.run(["dpkg", "-S", *sorted(set(paths))], capture_output=True, text=True).stdout
    return {line.split(":", 1)[0] for line in out.splitlines() if ":" in line}


def main(argv: list[str]) -> int:
    if len(argv) != 2 or argv[0] not in ("prune", "strip", "check"):
        print(__doc__, file=sys.stderr)
        return 2
    bundle = Path(argv[1])
    if not (bundle / "_internal").is_dir():
        print(f"{bundle} is not a PyInstaller one-folder bundle (no _internal folder)", file=sys.stderr)
        return 2
    return {"prune": prune, "strip": strip, "check": check}[argv[0]](bundle)


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
