"""Where a model comes from: the bundled model, a local folder, the Hugging Face cache or the Hub.

Everything here checks a source *before* any weights are read, so a bad folder gets a plain
message and never half-replaces the model in use.
"""

from __future__ import annotations

import errno
import json
import os
import struct
from dataclasses import dataclass
from pathlib import Path

from playground.core.base.errors import ModelLoadError
from playground.core.base.handle import TaskHandle, ensure_handle

PICKLE_SUFFIXES = (".bin", ".pt", ".pth", ".ckpt", ".pkl")


@dataclass(frozen=True)
class ModelSource:
    """A model to load.

    kind is "bundled", "encoder" (the bundled all-MiniLM-L6-v2), "local" (a folder), "cache" (a repo in the Hugging Face cache) or "hub"
    (a Hub id, downloaded when the machine is online).
    """

    kind: str
    ref: str = ""
    allow_pickle: bool = False

    @staticmethod
    def parse(text: str | None, allow_pickle: bool = False) -> ModelSource:
        """Guess the source from what a user typed: '', 'bundled', a path, or an 'org/name' id."""
        text = (text or "").strip()
        if text in ("", "bundled", "default"):
            return ModelSource("bundled")
        if text in ("encoder", "bundled-encoder", "minilm"):
            return ModelSource("encoder")
        expanded = os.path.expanduser(text)
        if (os.path.lexists(expanded) or text.startswith((".", "/", "~"))
                or os.sep in text and text.count("/") > 1):
            try:
                return ModelSource("local", str(Path(expanded).resolve()), allow_pickle)
            except (RuntimeError, OSError):  # a symlink loop: loading says so in plain words
                return ModelSource("local", os.path.abspath(expanded), allow_pickle)
        return ModelSource("hub", text, allow_pickle)

    @property
    def display_name(self) -> str:
        if self.kind == "bundled":
            from playground.core.models.bundled import BUNDLED_NAME

            return f"{BUNDLED_NAME} (bundled)"
        if self.kind == "encoder":
            from playground.core.models.encoder import ENCODER_NAME

            return f"{ENCODER_NAME} (bundled encoder)"
        if self.kind == "local":
            return Path(self.ref).name or self.ref
        return self.ref

    def to_dict(self) -> dict:
        return {"kind": self.kind, "ref": self.ref, "allow_pickle": self.allow_pickle}

    @staticmethod
    def from_dict(d: dict) -> ModelSource:
        return ModelSource(d.get("kind", "bundled"), d.get("ref", ""), bool(d.get("allow_pickle", False)))


def check_safetensors_file(path: Path) -> None:
    """Cheap integrity check: the header parses and the data it describes fits in the file."""
    try:
        size = path.stat().st_size
        with open(path, "rb") as f:
            head = f.read(8)
            if len(head) < 8:
                raise ValueError("file shorter than its header")
            (n,) = struct.unpack("<Q", head)
            if n <= 0 or n > min(size - 8, 100_000_000):
                raise ValueError("header length out of range")
            header = json.loads(f.read(n).decode("utf-8"))
        end = 0
        for name, meta in header.items():
            if name == "__metadata__":
                continue
            end = max(end, int(meta["data_offsets"][1]))
        if 8 + n + end > size:
            raise ValueError(f"file is truncated ({size} bytes, needs {8 + n + end})")
    except (OSError, ValueError, KeyError, TypeError, UnicodeDecodeError, struct.error) as exc:
        raise ModelLoadError(
            f"The weight file {path.name} is damaged and cannot be read ({exc}).",
            "Copy or download the model again.",
        ) from None


def inspect_local_folder(folder: str | Path, allow_pickle: bool = False) -> dict:
    """Check a model folder before loading it; return its parsed config.json.

    Refuses, in plain words: a missing folder, no config, no weights, damaged safetensors,
    pickle-only weights (unless allowed) and models that need their own remote code.
    """
    folder = Path(folder)
    if not folder.exists():
        if os.path.islink(folder):
            try:
                folder.resolve(strict=True)
                why = "is a symbolic link to something that does not exist"
            except (RuntimeError, OSError) as exc:
                loop = isinstance(exc, RuntimeError) or getattr(exc, "errno", None) == errno.ELOOP
                why = ("is a symbolic link that leads back to itself (a loop)" if loop
                       else "is a symbolic link to something that does not exist")
            raise ModelLoadError(f"{folder} {why}, not a model folder.",
                                 "Point the link at a model folder, or choose the folder itself.")
        raise ModelLoadError(f"The folder {folder} does not exist.", "Check the path and try again.")
    if not folder.is_dir():
        raise ModelLoadError(f"{folder} is a file, not a model folder.", "Choose the folder that holds config.json.")
    cfg_path = folder / "config.json"
    if not cfg_path.exists():
        raise ModelLoadError(
            f"{folder.name} has no config.json, so it is not a Hugging Face model folder.",
            "Choose the folder that holds config.json and the weight files.",
        )
    try:
        config = json.loads(cfg_path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ModelLoadError(f"config.json in {folder.name} cannot be read ({exc}).") from None
    if config.get("auto_map") or not config.get("model_type"):
        raise ModelLoadError(
            f"{folder.name} needs its own Python code to run (remote code), which the playground "
            "does not run for your safety.",
            "Choose a model whose architecture transformers supports directly.",
        )
    from transformers import CONFIG_MAPPING

    if config["model_type"] not in CONFIG_MAPPING:
        raise ModelLoadError(
            f"{folder.name} is a '{config['model_type']}' model, which this version of "
            "transformers does not know (it would need remote code).",
            "Choose a supported model, or update transformers.",
        )
    safetensors = sorted(folder.glob("*.safetensors"))
    pickles = [p for p in folder.iterdir() if p.suffix in PICKLE_SUFFIXES and "training_args" not in p.name]
    if not safetensors:
        if pickles and not allow_pickle:
            raise ModelLoadError(
                f"{folder.name} holds only pickle weight files ({pickles[0].name}), which can run "
                "code when they are opened.",
                "Load it only if you trust its source: tick 'Allow pickle weights' and try again.",
            )
        if not pickles:
            raise ModelLoadError(
                f"{folder.name} has a config but no weight files (*.safetensors).",
                "Copy the weight files into the folder, or choose another model.",
            )
    for f in safetensors:
        check_safetensors_file(f)
    return config


def _hub_offline() -> bool:
    return os.environ.get("HF_HUB_OFFLINE", "").lower() in ("1", "true", "yes", "on")


def resolve_cached_repo(repo_id: str) -> Path | None:
    """The local snapshot of a Hub repo already in the Hugging Face cache, or None."""
    try:
        from huggingface_hub import snapshot_download

        return Path(snapshot_download(repo_id, local_files_only=True))
    except Exception:  # not cached, or a cache entry without files
        return None


def download_from_hub(repo_id: str, handle: TaskHandle | None = None, allow_pickle: bool = False) -> Path:
    """Download a model from the Hub with progress; a plain message when offline."""
    handle = ensure_handle(handle)
    cached = resolve_cached_repo(repo_id)
    if cached is not None:
        return cached
    offline_msg = ModelLoadError(
        f"'{repo_id}' is not on this computer and the Hugging Face Hub cannot be reached (offline).",
        "Connect to the internet to download it, or load a local model folder.",
    )
    if _hub_offline():
        raise offline_msg
    from huggingface_hub import snapshot_download
    from huggingface_hub.errors import RepositoryNotFoundError

    patterns = ["*.json", "*.safetensors", "*.model", "*.txt", "*.tiktoken", "tokenizer*"]
    if allow_pickle:
        patterns.append("*.bin")

    handle.report(None, f"Downloading {repo_id} from the Hugging Face Hub...")
    try:
        return Path(snapshot_download(repo_id, allow_patterns=patterns, tqdm_class=_progress_tqdm(handle)))
    except RepositoryNotFoundError:
        raise ModelLoadError(f"There is no model called '{repo_id}' on the Hugging Face Hub (or it is private).",
                             "Check the spelling, e.g. HuggingFaceTB/SmolLM2-135M-Instruct.") from None
    except Exception as exc:  # connection errors come in many types across versions
        if _is_network_error(exc):
            raise offline_msg from None
        raise ModelLoadError(f"Downloading '{repo_id}' failed: {exc}") from None


_NETWORK_TYPES = ("connect", "timeout", "localentrynotfound", "offlinemode", "network", "proxy", "ssl")
_NETWORK_WORDS = ("offline", "resolve", "name resolution", "max retries", "name or service not known",
                  "network is unreachable", "timed out", "connection", "locate the files on the hub")


def _is_network_error(exc: BaseException) -> bool:
    """Whether the Hub could not be reached (the type and wording vary across library versions)."""
    seen, chain = set(), exc
    while chain is not None and id(chain) not in seen:  # the cause often carries the real type
        seen.add(id(chain))
        names = " ".join(c.__name__.lower() for c in type(chain).__mro__)
        text = str(chain).lower()
        if any(t in names for t in _NETWORK_TYPES) or any(w in text for w in _NETWORK_WORDS):
            return True
        chain = chain.__cause__ or chain.__context__
    return False


def _progress_tqdm(handle: TaskHandle):
    from tqdm.auto import tqdm

    class _Reporting(tqdm):  # type: ignore[misc, valid-type]
        def update(self, n=1):
            out = super().update(n)
            if self.total:
                handle.report(min(0.9, self.n / self.total * 0.9), f"Downloading {self.desc or ''}".strip())
            if handle.cancelled():
                raise KeyboardInterrupt("download stopped")
            return out

    return _Reporting


def list_cached_hub_models() -> list[str]:
    """Repo ids of models (with a config.json) in the Hugging Face cache."""
    try:
        from huggingface_hub import scan_cache_dir

        info = scan_cache_dir()
    except Exception:
        return []
    out = []
    for repo in info.repos:
        if repo.repo_type != "model":
            continue
        if any(f.file_name == "config.json" for rev in repo.revisions for f in rev.files):
            out.append(repo.repo_id)
    return sorted(out)
