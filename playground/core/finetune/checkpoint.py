"""Checkpoints that survive a crash: written to a temporary folder, then renamed into place.

A checkpoint folder (``checkpoints/step-000050``) holds the trained weights in the same format
as the final artifact (``model/``), the optimizer and schedule (``training_state.pt``) and the
run's counters and curves (``state.json``). A folder without ``state.json`` was never completed
and is ignored.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path
from typing import Callable

from playground.core.finetune.layout import STATE_FILE, RunFolder
from playground.core.base.paths import atomic_write_text


def atomic_save_dir(target: Path, write: Callable[[Path], None]) -> Path:
    """Build a folder with ``write(tmp)`` and rename it to ``target`` only when complete.

    An existing ``target`` is replaced; a crash at any moment leaves either the old folder or the
    new one (plus, at worst, a hidden temporary folder that later saves clean up).
    """
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.parent / f".{target.name}.tmp-{os.getpid()}"
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir()
    try:
        write(tmp)
        _fsync_tree(tmp)
        if target.exists():
            old = target.parent / f".{target.name}.old-{os.getpid()}"
            shutil.rmtree(old, ignore_errors=True)
            os.replace(target, old)
            os.replace(tmp, target)
            shutil.rmtree(old, ignore_errors=True)
        else:
            os.replace(tmp, target)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return target


def _fsync_tree(folder: Path) -> None:
    for path in folder.rglob("*"):
        if path.is_file():
            fd = os.open(path, os.O_RDONLY)
            try:
                os.fsync(fd)
            finally:
                os.close(fd)


def checkpoint_dir(run_dir: Path, step: int) -> Path:
    return RunFolder(run_dir).checkpoint(step)


def list_checkpoints(run_dir: Path) -> list[tuple[int, Path]]:
    """Complete checkpoints of a run as (step, folder), oldest first."""
    return RunFolder(run_dir).list_checkpoints()


def latest_checkpoint(run_dir: Path) -> Path | None:
    return RunFolder(run_dir).latest_checkpoint()


def save_checkpoint(run_dir: Path, step: int, save_model: Callable[[Path], None], optimizer, scheduler,
                    state: dict, keep: int = 2) -> Path:
    """Write a complete checkpoint for ``step`` and keep only the newest ``keep`` of them."""
    import torch

    def write(tmp: Path) -> None:
        save_model(tmp / "model")
        torch.save({"optimizer": optimizer.state_dict(), "scheduler": scheduler.state_dict()},
                   tmp / "training_state.pt")
        # Written last: its presence marks the checkpoint complete.
        atomic_write_text(tmp / STATE_FILE, json.dumps(state, indent=1))

    path = atomic_save_dir(checkpoint_dir(run_dir, step), write)
    for _, old in list_checkpoints(run_dir)[:-keep]:
        shutil.rmtree(old, ignore_errors=True)
    for leftover in (Path(run_dir) / "checkpoints").glob(".step-*"):
        if not leftover.name.endswith(f"-{os.getpid()}"):
            shutil.rmtree(leftover, ignore_errors=True)  # from a process that died mid-save
    return path


def load_checkpoint_state(folder: Path) -> tuple[dict, dict]:
    """(state.json, {"optimizer", "scheduler"}) of a checkpoint folder."""
    import torch

    state = json.loads((folder / STATE_FILE).read_text(encoding="utf-8"))
    training = torch.load(folder / "training_state.pt", map_location="cpu", weights_only=True)
    return state, training
