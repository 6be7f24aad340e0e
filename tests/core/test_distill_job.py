"""A distillation job on a tiny teacher: two students trained, saved as Hugging Face folders that
load, measured against the teacher; Stop and resume; divergence and bad settings refused."""

from __future__ import annotations

import json

import pytest
import torch

from playground.core.base.errors import InputError
from playground.core.base.handle import TaskHandle
from playground.core.distill.events import (
    DistillDoneEvent,
    DistillStepEvent,
    MeasuredEvent,
    StudentEvent,
    ViewEvent,
)
from playground.core.distill.job import resume_job, run_distill
from playground.core.distill.store import list_students, student_dir
from playground.core.finetune.divergence import DivergedError
from playground.core.finetune.events import StoppedEvent
from tests.core.distill_helpers import save_tiny_teacher, tiny_job, write_dialogues


@pytest.fixture(scope="module")
def teacher_dir(tmp_path_factory, bundled_tokenizer):
    return save_tiny_teacher(tmp_path_factory.mktemp("teacher"), bundled_tokenizer)


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory):
    return write_dialogues(tmp_path_factory.mktemp("dialogues"))


def test_two_students_trained_saved_and_measured(teacher_dir, data_dir, tmp_path):
    from transformers import AutoModelForCausalLM

    job = tiny_job(teacher_dir, data_dir, tmp_path / "runs" / "one")
    events = list(run_distill(job, view_context="#Person1#: Lunch?", view_every=2))
    views = [(e.kind, e.step) for e in events if isinstance(e, ViewEvent)]
    assert views == [("soft", 0), ("soft", 2), ("soft", 3), ("hard", 0), ("hard", 2), ("hard", 3)]
    assert next(e for e in events if isinstance(e, ViewEvent)).view.kl_per_token
    students = [e for e in events if isinstance(e, StudentEvent)]
    assert [(s.kind, s.alpha, s.kept_layers) for s in students] == [("soft", 0.5, [0, 2]), ("hard", 1.0, [0, 2])]
    steps = [e for e in events if isinstance(e, DistillStepEvent)]
    assert [(e.kind, e.step.step) for e in steps] == [("soft", 1), ("soft", 2), ("soft", 3),
                                                      ("hard", 1), ("hard", 2), ("hard", 3)]
    assert all(e.kl > 0 for e in steps if e.kind == "soft") and all(e.kl == 0 for e in steps if e.kind == "hard")
    # the soft step's loss is the mix of its two parts
    e = steps[0]
    assert e.step.loss == pytest.approx(0.5 * e.ce + 0.5 * 4.0 * e.kl, rel=1e-4)
    rows = [e.row for e in events if isinstance(e, MeasuredEvent)]
    assert [r.kind for r in rows] == ["teacher", "soft", "hard"]
    assert rows[1].parameters < rows[0].parameters and rows[1].layers == 2 and rows[0].layers == 4
    assert all(r.rouge_l is not None and r.perplexity > 1 for r in rows)
    done = events[-1]
    assert isinstance(done, DistillDoneEvent)
    # the saved student is a standard Hugging Face folder: it loads and computes what was measured
    folder = student_dir(tmp_path / "runs" / "one", "soft")
    loaded = AutoModelForCausalLM.from_pretrained(str(folder)).eval()
    assert (folder / "tokenizer.json").is_file() and loaded.config.num_hidden_layers == 2
    from playground.core.distill.measure import held_out_perplexity  # noqa: F401 (the same measurement)
    ids = torch.tensor([[1, 2, 3, 4]])
    from safetensors.torch import load_file

    state = load_file(str(folder / "model.safetensors"))
    assert torch.equal(state["model.layers.1.mlp.up_proj.weight"], loaded.model.layers[1].mlp.up_proj.weight)
    assert loaded(input_ids=ids).logits.shape == (1, 4, loaded.config.vocab_size)
    report = json.loads((tmp_path / "runs" / "one" / "report.json").read_text())
    assert [m["kind"] for m in report["models"]] == ["teacher", "soft", "hard"] and "perplexity" in report["verdict"]
    assert list_students(tmp_path / "runs") == [folder, student_dir(tmp_path / "runs" / "one", "hard")]


def test_stop_then_resume_finishes_the_run(teacher_dir, data_dir, tmp_path):
    job = tiny_job(teacher_dir, data_dir, tmp_path / "run", steps=4, compare_hard=False)
    job.evaluation.test_examples, job.evaluation.before = 0, False
    handle = TaskHandle()
    seen = []
    for ev in run_distill(job, handle):
        seen.append(ev)
        if isinstance(ev, DistillStepEvent) and ev.step.step == 2:
            handle.request_stop()
    assert isinstance(seen[-1], StoppedEvent) and seen[-1].step == 2 and seen[-1].checkpoint
    rest = list(run_distill(resume_job(tmp_path / "run"), resume=True))
    assert [e.step.step for e in rest if isinstance(e, DistillStepEvent)] == [3, 4]
    assert isinstance(rest[-1], DistillDoneEvent) and list(rest[-1].students) == ["soft"]
    with pytest.raises(InputError, match="already finished"):
        list(run_distill(resume_job(tmp_path / "run"), resume=True))


@pytest.mark.bad_input("distillation diverging (a learning rate far too high)")
def test_diverging_is_refused_and_nothing_is_saved(teacher_dir, data_dir, tmp_path, bad_input):
    job = tiny_job(teacher_dir, data_dir, tmp_path / "run", steps=6, compare_hard=False)
    job.training.learning_rate, job.training.max_grad_norm = 1e4, 0.0
    job.evaluation.test_examples, job.evaluation.before = 0, False
    with pytest.raises(DivergedError) as err:
        list(run_distill(job))
    bad_input(err.value)
    assert "diverged" in err.value.message and "learning_rate" in err.value.hint
    assert not student_dir(tmp_path / "run", "soft").exists()
    assert (tmp_path / "run" / "failed.json").is_file()


@pytest.mark.parametrize("field,value,words", [
    ("temperature", 0.0, "temperature T must be above 0"),
    ("temperature", -1.0, "temperature T must be above 0"),
    ("alpha", 1.5, "between 0 and 1"),
    ("alpha", -0.1, "between 0 and 1"),
])
@pytest.mark.bad_input("distillation T <= 0 or alpha outside 0-1")
def test_bad_temperature_or_alpha_refused(teacher_dir, data_dir, tmp_path, field, value, words, bad_input):
    job = tiny_job(teacher_dir, data_dir, tmp_path / "run", **{field: value})
    with pytest.raises(InputError, match=words) as err:
        list(run_distill(job))
    bad_input(err.value)
    assert not (tmp_path / "run").exists()  # refused before anything was written


@pytest.mark.bad_input("a distillation student larger than its teacher")
def test_student_larger_than_teacher_refused(teacher_dir, data_dir, tmp_path, bad_input):
    job = tiny_job(teacher_dir, data_dir, tmp_path / "run", student_layers=6)
    job.evaluation.before = False
    with pytest.raises(InputError, match="larger than its teacher") as err:
        list(run_distill(job))
    bad_input(err.value)
