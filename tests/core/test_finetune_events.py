"""Fine-tune events say what they mean (the CLI and the wizard's log use the same sentence), and
the optimizer steps the settings give are counted as the job counts them."""

from __future__ import annotations

from playground.core.finetune.batching import describe_steps, planned_steps
from playground.core.finetune.config import TrainingConfig
from playground.core.finetune.events import MethodEvent, StepEvent, StoppedEvent


def test_events_describe_themselves_and_the_cli_prints_those_words(capsys):
    from playground.cli.finetune_cmd import _Printer

    method = MethodEvent("lora", 3584, 1_595_040, ["q_proj", "v_proj"])
    assert method.describe() == "Method lora on q_proj, v_proj: 3,584 of 1,595,040 parameters learn (0.225%)"
    step = StepEvent(3, 4, 0.75, 1.23456, 2e-4, 800.0, 1.0, 3.0, 2**30, 100)
    assert step.describe() == "step 3/4  loss 1.2346  lr 2.00e-04  800 tokens/s  mem 1.00 GiB"
    assert StoppedEvent(2, "").describe() == "Stopped at step 2; no checkpoint yet (no step was finished)."
    printer = _Printer(quiet=False)
    printer.tty = False
    printer(method)
    printer(step)
    err = capsys.readouterr().err
    assert method.describe() in err and step.describe() in err


def test_the_steps_the_settings_give():
    t = TrainingConfig(micro_batch_size=1, gradient_accumulation_steps=2, epochs=1.0)
    assert planned_steps(t, 8) == 4
    text = describe_steps(t, 8)
    assert "→ 4 optimizer steps" in text and "noise, not learning" in text
    t.epochs = 0.5
    assert planned_steps(t, 8) == 2
    t.max_steps = 30
    assert planned_steps(t, 8) == 30 and "max steps 30" in describe_steps(t, 8)
    assert "noise" not in describe_steps(t, 8)
    assert planned_steps(TrainingConfig(micro_batch_size=3, gradient_accumulation_steps=2), 13) == 3  # 5 batches
