"""One run per folder for its whole life (issue 20, items 4 and 5): a racing start and --overwrite of
a folder still training are refused; the lock dies with its process, even under kill -9."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))
from test_finetune_train import data_dir, make_config  # noqa: E402,F401  (the module's fixture)

from playground.core.base.errors import InputError  # noqa: E402
from playground.core.finetune import DoneEvent, run_finetune  # noqa: E402
from playground.core.finetune.job import prepare_run_dir  # noqa: E402
from playground.core.finetune.lock import RunLock, is_locked  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
HOLD = ("import sys; from playground.core.finetune.lock import RunLock; RunLock(sys.argv[1]).acquire(); "
        "print('held', flush=True); sys.stdin.readline()")


def holder(run_dir: Path) -> subprocess.Popen:
    """Another process holding the folder's lock, like a run still training."""
    env = dict(os.environ, PYTHONPATH=str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    child = subprocess.Popen([sys.executable, "-c", HOLD, str(run_dir)], stdin=subprocess.PIPE,
                             stdout=subprocess.PIPE, text=True, env=env)
    assert child.stdout.readline().strip() == "held"
    return child


@pytest.mark.bad_input("finetune: two runs reach the same new output folder at the same instant")
def test_racing_starts_on_one_folder_admit_exactly_one(tmp_path, bad_input):
    cfg = make_config("unused", Path("unused"), tmp_path / "run")
    barrier, accepted, refused, locks = threading.Barrier(8), [], [], []

    def start():
        lock = RunLock(cfg.output.dir)
        barrier.wait()
        try:
            prepare_run_dir(cfg, False, True, lock)
            accepted.append(lock)
        except InputError as exc:
            refused.append(exc)

    threads = [threading.Thread(target=start) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    bad_input(refused[0])
    assert len(accepted) == 1 and len(refused) == 7
    assert all("in use by another run" in str(e) or "already exists" in str(e) for e in refused)
    accepted[0].release()


@pytest.mark.bad_input("finetune --overwrite on the folder of a run that is still training")
def test_overwrite_of_a_folder_still_training_is_refused_and_nothing_is_deleted(tiny_llama_dir, data_dir,
                                                                                tmp_path, bad_input):
    out = tmp_path / "run"
    out.mkdir()
    (out / "job.toml").write_text("# the running job\n")
    (out / "checkpoints").mkdir()
    child = holder(out)
    try:
        cfg = make_config(tiny_llama_dir, data_dir, out, steps=1)
        cfg.output.overwrite = True
        with pytest.raises(InputError) as err:
            list(run_finetune(cfg))
        bad_input(err.value)
        assert "in use by another run" in err.value.message and f"process {child.pid}" in err.value.message
        assert (out / "job.toml").read_text() == "# the running job\n" and (out / "checkpoints").is_dir()
        assert not (out / "failed.json").exists()  # the other run's folder is left alone
        with pytest.raises(InputError, match="in use"):
            list(run_finetune(make_config(tiny_llama_dir, data_dir, out, steps=1), resume=True))
    finally:
        child.stdin.close()
        child.wait(timeout=30)


def test_a_lock_does_not_outlive_a_killed_process_and_a_run_releases_its_own(tiny_llama_dir, data_dir, tmp_path):
    out = tmp_path / "run"
    child = holder(out)
    assert is_locked(out)
    child.kill()
    child.wait(timeout=30)
    assert not is_locked(out)
    evs = list(run_finetune(make_config(tiny_llama_dir, data_dir, out, steps=1)))
    assert isinstance(evs[-1], DoneEvent) and not is_locked(out)
