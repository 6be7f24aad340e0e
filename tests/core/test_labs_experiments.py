"""The alignment experiment a notebook replays carries the GRPO loss type the run used."""

from playground.core.align.config import AlignConfig
from playground.core.align.events import AlignStepEvent
from playground.core.align.notebook import alignment_cells
from playground.core.labs.experiments import alignment_experiment


def _step() -> AlignStepEvent:
    return AlignStepEvent(step=1, total_steps=1, method="grpo", reward_mean=0.5, reward_std=0.1, kl=0.0,
                          entropy=1.0, completion_length=4.0, tokens_per_s=1.0, loss=0.0, seconds=1.0,
                          peak_memory_bytes=0, extra={"samples": [{"completion": "a", "reward": 1.0}],
                                                      "advantages": [0.0]})


def test_a_dapo_run_is_exported_as_dapo():
    cfg = AlignConfig()
    cfg.method.name, cfg.method.loss_type = "grpo", "dapo"
    exp = alignment_experiment(None, None, None, [_step()], cfg)
    assert exp["optimize"]["loss_type"] == "dapo"
    source = "\n".join(text for _kind, text in alignment_cells(exp))
    assert "loss_type='dapo'" in source


def test_the_runs_precision_is_exported_from_its_report_or_resolved_from_the_job(monkeypatch):
    from types import SimpleNamespace

    from playground.core.finetune import mixed

    cfg = AlignConfig()
    done = SimpleNamespace(report={"precision": "bf16"})
    exp = alignment_experiment(None, None, None, [_step(), done], cfg)
    assert exp["optimize"]["precision"] == "bf16"
    source = "\n".join(text for _kind, text in alignment_cells(exp))
    assert "bf16=True" in source and "the app's run: BF16" in source
    # a run stopped before its report: the job's "auto", resolved as the run resolved it
    monkeypatch.setattr(mixed, "cpu_has_native_bf16", lambda: False)
    exp = alignment_experiment(None, None, None, [_step()], cfg)
    assert exp["optimize"]["precision"] == "no"
    assert "bf16=False" in "\n".join(text for _kind, text in alignment_cells(exp))
