"""Fine-tuning on a tiny random Llama (and T5): each method learns, adapters reload exactly, Stop and
resume lose nothing, and out of memory says what to change."""

from __future__ import annotations

import json

import pytest
import torch

from playground.core.base.errors import PlaygroundError
from playground.core.finetune import (
    CheckpointEvent,
    DoneEvent,
    EvalEvent,
    FinetuneConfig,
    MethodEvent,
    RougeEvent,
    StageEvent,
    StepEvent,
    StoppedEvent,
    resume_config,
    run_finetune,
)
from playground.core.base.handle import TaskHandle

LR = {"lora": 0.02, "full": 0.003, "prompt_tuning": 0.3}


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory):
    folder = tmp_path_factory.mktemp("dialogues")
    for name, n, start in (("train", 24, 0), ("validation", 6, 100), ("test", 2, 200)):
        rows = [{"dialogue": f"#Person1#: Lunch at {i % 3 + 1}?\n#Person2#: Fine, see you.",
                 "summary": "They agree to meet for lunch."} for i in range(start, start + n)]
        (folder / f"{name}.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return folder


def make_config(model_dir, data_dir, out, method="lora", steps=6, **training) -> FinetuneConfig:
    cfg = FinetuneConfig()
    cfg.model.source, cfg.model.device = str(model_dir), "cpu"
    cfg.data.source = str(data_dir / "train.jsonl")
    cfg.data.validation, cfg.data.test = str(data_dir / "validation.jsonl"), str(data_dir / "test.jsonl")
    cfg.data.max_length = 96
    cfg.method.name = method
    cfg.method.prompt_tuning.virtual_tokens = 8
    t = cfg.training
    t.max_steps, t.learning_rate, t.micro_batch_size, t.gradient_accumulation_steps = steps, LR[method], 2, 2
    t.eval_every, t.save_every, t.warmup_ratio = 0, 0, 0.0
    for k, v in training.items():
        setattr(t, k, v)
    cfg.evaluation.test_examples, cfg.evaluation.max_new_tokens, cfg.evaluation.before = 0, 4, False
    cfg.output.dir = str(out)
    return cfg


def events_of(cfg, handle=None, resume=False):
    return list(run_finetune(cfg, handle, resume))


def logits(model, ids):
    model.eval()
    with torch.no_grad():
        return model(input_ids=ids).logits


@pytest.mark.parametrize("method", ["lora", "full", "prompt_tuning"])
def test_each_method_lowers_the_loss_and_its_saved_weights_reload_exactly(method, tiny_llama_dir, data_dir, tmp_path,
                                                                         monkeypatch):
    from peft import PeftModel
    from transformers import AutoModelForCausalLM

    from playground.core.finetune import job

    cfg = make_config(tiny_llama_dir, data_dir, tmp_path / "run", method, steps=8, eval_every=8)
    if method == "lora":
        cfg.training.gradient_checkpointing = True  # the memory-saving path trains too
    initial = {}

    def apply_and_remember(*args, **kwargs):  # the trainable weights as training starts
        model, info = apply(*args, **kwargs)
        initial.update({n: p.detach().clone() for n, p in model.named_parameters() if p.requires_grad})
        return model, info

    apply = job.apply_method
    monkeypatch.setattr(job, "apply_method", apply_and_remember)
    evs = events_of(cfg)
    vals = [e.validation_loss for e in evs if isinstance(e, EvalEvent)]
    assert [e.step for e in evs if isinstance(e, EvalEvent)] == [0, 8]
    # A soft prompt moves a 2-layer random model less than weights do; the run is deterministic.
    assert vals[-1] < vals[0] - (0.01 if method == "prompt_tuning" else 0.05), vals
    info = next(e for e in evs if isinstance(e, MethodEvent))
    if method == "full":
        assert info.trainable_parameters == info.total_parameters
    else:
        assert 0 < info.trainable_share < 0.01
    if method == "lora":
        assert info.target_modules == ["q_proj", "k_proj", "v_proj", "o_proj"]
    done = evs[-1]
    assert isinstance(done, DoneEvent)
    # trl's check: every trainable parameter changed (none was left out of the optimizer)
    trained = dict(done.model.named_parameters())
    assert initial and sum(t.numel() for t in initial.values()) == info.trainable_parameters
    unchanged = [n for n, before in initial.items() if torch.equal(before, trained[n].detach())]
    assert not unchanged, unchanged
    base = AutoModelForCausalLM.from_pretrained(str(tiny_llama_dir))
    ids = torch.tensor([[1, 400, 500, 600, 700, 800]])
    before = logits(base, ids)  # PeftModel.from_pretrained adds the adapter into ``base`` itself
    if method == "full":
        assert (tmp_path / "run" / "model" / "model.safetensors").is_file()
        reloaded = AutoModelForCausalLM.from_pretrained(done.artifact)
    else:
        assert {"adapter_config.json", "adapter_model.safetensors"} <= {p.name for p in (tmp_path / "run" / "adapter").iterdir()}
        reloaded = PeftModel.from_pretrained(base, done.artifact)
    after = logits(reloaded, ids)
    assert torch.equal(logits(done.model, ids), after)
    assert not torch.allclose(before, after[:, -6:])  # training did change the model
    report = json.loads((tmp_path / "run" / "report.json").read_text())
    assert report["training"]["steps"] == 8 and report["training"]["tokens_per_s"] > 0
    assert report["method"]["trainable_parameters"] == info.trainable_parameters
    assert report["training"]["peak_memory_bytes"] > 0
    assert not (tmp_path / "run" / "checkpoints").exists()


def test_stop_then_resume_gives_the_same_losses_as_one_run(tiny_llama_dir, data_dir, tmp_path):
    from peft import PeftModel
    from transformers import AutoModelForCausalLM

    # Two warm-up steps then a cosine decay: the schedule's state must resume too.
    whole = make_config(tiny_llama_dir, data_dir, tmp_path / "whole", steps=7, save_every=3, warmup_ratio=0.3)
    whole.method.lora.dropout = 0.1  # dropout draws random numbers: a resume must draw the same ones
    ref_steps = [e for e in events_of(whole) if isinstance(e, StepEvent)]
    ref = [e.loss for e in ref_steps]
    lrs = [e.learning_rate for e in ref_steps]
    assert lrs[:3] == pytest.approx([0.0, LR["lora"] / 2, LR["lora"]])
    assert all(a > b for a, b in zip(lrs[2:], lrs[3:]))

    part = make_config(tiny_llama_dir, data_dir, tmp_path / "part", steps=7, save_every=3, warmup_ratio=0.3)
    part.method.lora.dropout = 0.1
    handle = TaskHandle()
    first = []
    for ev in run_finetune(part, handle):
        if isinstance(ev, StepEvent):
            first.append(ev.loss)
            if ev.step == 4:
                handle.cancel()  # Stop during step 5's wait: the loop stops before starting it
    assert isinstance(ev, StoppedEvent) and ev.step == 4
    assert ev.checkpoint.endswith("step-000004")
    # The checkpoint written at Stop is a standard adapter.
    base = AutoModelForCausalLM.from_pretrained(str(tiny_llama_dir))
    PeftModel.from_pretrained(base, f"{ev.checkpoint}/model")

    evs = events_of(resume_config(tmp_path / "part"), resume=True)
    rest = [e for e in evs if isinstance(e, StepEvent)]
    assert [e.step for e in rest] == [5, 6, 7]
    assert first + [e.loss for e in rest] == pytest.approx(ref, abs=1e-6)
    assert [e.learning_rate for e in rest] == pytest.approx(lrs[4:])
    assert isinstance(evs[-1], DoneEvent)
    report = json.loads((tmp_path / "part" / "report.json").read_text())
    assert [c[0] for c in report["curves"]["train_loss"]] == list(range(1, 8))


def test_closing_the_generator_like_the_gui_stop_leaves_a_resumable_checkpoint(tiny_llama_dir, data_dir, tmp_path):
    cfg = make_config(tiny_llama_dir, data_dir, tmp_path / "run", steps=6, save_every=2)
    gen = run_finetune(cfg)
    seen = []
    for ev in gen:
        seen.append(ev)
        if isinstance(ev, StepEvent) and ev.step == 3:
            gen.close()  # what the task runner does when its task is cancelled
            break
    assert [e.step for e in seen if isinstance(e, CheckpointEvent)] == [2]
    ckpts = sorted(p.name for p in (tmp_path / "run" / "checkpoints").iterdir())
    assert ckpts == ["step-000002", "step-000003"]
    state = json.loads((tmp_path / "run" / "checkpoints" / "step-000003" / "state.json").read_text())
    assert state["step"] == 3 and len(state["losses"]) == 3
    resumed = [e.step for e in run_finetune(resume_config(tmp_path / "run"), resume=True) if isinstance(e, StepEvent)]
    assert resumed == [4, 5, 6]


def test_a_graceful_stop_ends_the_run_after_its_step_with_a_checkpoint(tiny_llama_dir, data_dir, tmp_path):
    cfg = make_config(tiny_llama_dir, data_dir, tmp_path / "run", steps=6)  # save_every 0: only Stop saves
    handle = TaskHandle()
    evs = []
    for ev in run_finetune(cfg, handle):
        evs.append(ev)
        if isinstance(ev, StepEvent) and ev.step == 3:
            handle.request_stop()  # the Fine-tune tab's Stop and the CLI's first Ctrl+C
    assert [e.step for e in evs if isinstance(e, StepEvent)] == [1, 2, 3]
    stopped = evs[-1]
    assert isinstance(stopped, StoppedEvent) and stopped.step == 3  # it returned normally, with this last
    assert stopped.checkpoint.endswith("step-000003")
    state = json.loads((tmp_path / "run" / "checkpoints" / "step-000003" / "state.json").read_text())
    assert state["step"] == 3 and len(state["losses"]) == 3
    assert not handle.cancelled()  # graceful: nothing was torn down
    resumed = [e.step for e in run_finetune(resume_config(tmp_path / "run"), resume=True) if isinstance(e, StepEvent)]
    assert resumed == [4, 5, 6]


def test_a_graceful_stop_while_scoring_the_base_model_ends_the_run_there(tiny_llama_dir, data_dir, tmp_path):
    cfg = make_config(tiny_llama_dir, data_dir, tmp_path / "run", steps=4)
    cfg.evaluation.test_examples, cfg.evaluation.before = 2, True
    handle = TaskHandle()
    evs = []
    for ev in run_finetune(cfg, handle):
        evs.append(ev)
        if isinstance(ev, StageEvent) and ev.stage == "rouge_before":
            handle.request_stop()  # after the first of the two test dialogues
    # Scoring has nothing to save: it ends at once, and training never starts.
    assert not any(isinstance(e, (RougeEvent, MethodEvent, StepEvent)) for e in evs)
    assert isinstance(evs[-1], StoppedEvent) and evs[-1].step == 0 and not handle.cancelled()


def test_an_existing_output_folder_is_refused_unless_overwrite(tiny_llama_dir, data_dir, tmp_path):
    out = tmp_path / "run"
    out.mkdir()
    (out / "keep.txt").write_text("mine")
    cfg = make_config(tiny_llama_dir, data_dir, out, steps=1)
    with pytest.raises(PlaygroundError, match="already exists") as err:
        events_of(cfg)
    assert "overwrite" in err.value.hint and "--resume" in err.value.hint
    assert (out / "keep.txt").read_text() == "mine"
    cfg.output.overwrite = True
    assert isinstance(events_of(cfg)[-1], DoneEvent)
    assert not (out / "keep.txt").exists()


def test_out_of_memory_names_what_to_change(tiny_llama_dir, data_dir, tmp_path, monkeypatch):
    import playground.core.finetune.loop as loop

    def boom(*args, **kwargs):
        raise torch.OutOfMemoryError("CUDA out of memory. Tried to allocate 2.00 GiB")

    monkeypatch.setattr(loop, "completion_loss_sum", boom)
    cfg = make_config(tiny_llama_dir, data_dir, tmp_path / "run", method="full", steps=2)
    with pytest.raises(PlaygroundError) as err:
        events_of(cfg)
    assert "ran out of memory during training step 1" in err.value.message
    for words in ("micro_batch_size", "gradient_checkpointing", "LoRA instead of full"):
        assert words in err.value.hint
    # the run folder says why it stopped (the runs list shows it), until it is resumed
    from playground.core.finetune.layout import RunFolder

    run = RunFolder(tmp_path / "run")
    assert run.status() == "failed"
    assert "ran out of memory" in run.failure()["message"] and "micro_batch_size" in run.failure()["hint"]
    monkeypatch.undo()
    done = [e for e in run_finetune(resume_config(run.path), resume=True) if isinstance(e, DoneEvent)]
    assert done and run.status() == "finished" and run.failure() is None


def test_rouge_before_and_after_and_an_encoder_decoder_model(tiny_t5_dir, data_dir, tmp_path):
    cfg = make_config(tiny_t5_dir, data_dir, tmp_path / "run", steps=4)
    cfg.evaluation.test_examples, cfg.evaluation.before = 2, True
    reports = []  # (fraction, message) as the progress strip receives them
    evs = events_of(cfg, TaskHandle(on_progress=lambda f, m: reports.append((f, m))))
    rouge = {e.when: e for e in evs if isinstance(e, RougeEvent)}
    assert set(rouge) == {"before", "after"}
    assert set(rouge["after"].scores) == {"rouge1", "rouge2", "rougeL", "rougeLsum"}
    assert rouge["after"].examples == 2
    info = next(e for e in evs if isinstance(e, MethodEvent))
    assert info.target_modules == ["q", "k", "v", "o"]
    losses = [e.loss for e in evs if isinstance(e, StepEvent)]
    assert len(losses) == 4 and all(x == x for x in losses)  # no NaN
    report = json.loads((tmp_path / "run" / "report.json").read_text())
    assert report["rouge"]["before"] is not None and report["rouge"]["after"] is not None
    assert "| after fine-tuning |" in (tmp_path / "run" / "report.md").read_text()
    # The numbers are the evaluation core's, on the summaries kept in test_predictions.csv.
    import csv

    from playground.core.evaluation.metrics import rouge as rouge_of
    with open(tmp_path / "run" / "test_predictions.csv", newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    assert len(rows) == 2 and {"before output", "after output"} <= set(rows[0])
    assert [r["after output"] for r in rows] == rouge["after"].predictions
    expected = rouge_of([r["after output"] for r in rows], [r["reference"] for r in rows])
    assert report["rouge"]["after"]["rouge1"] == pytest.approx(expected["rouge1"])
    assert 0 <= report["rouge"]["after"]["bleu"] <= 100 and "rouge1" in report["rouge"]["after"]["intervals"]

    # Progress comes in named phases, each counting its own steps from 0 (the bar restarts per phase):
    # scoring the test set before training is never "100 % trained" before step 1.
    from playground.core.base.progress import StepMessage

    steps = [m for _, m in reports if isinstance(m, StepMessage)]
    phases = list(dict.fromkeys(m.phase for m in steps))
    assert phases == ["Loading the model for training", "Tokenizing the data", "Scoring the test set before training",
                      "Training", "Saving the trained weights", "Scoring the test set after training",
                      "Writing the report"]
    for phase, total in (("Scoring the test set before training", 2), ("Training", 4),
                         ("Scoring the test set after training", 2)):
        seen = [(m.done, m.total) for m in steps if m.phase == phase]
        assert seen[0] == (0, total) and seen[-1] == (total, total), (phase, seen)
    first_training = next(f for f, m in reports if isinstance(m, StepMessage) and m.phase == "Training")
    assert first_training == 0.0
    # the report says the scores on the app's one scale, with their change from the shown values
    from playground.core.base.units import format_delta, format_score

    md = (tmp_path / "run" / "report.md").read_text()
    b, a = (format_score(report["rouge"][w]["rouge1"], "rouge1") for w in ("before", "after"))
    assert f"| before fine-tuning | {b} [" in md and f"| after fine-tuning | {a} [" in md
    assert f"| change | {format_delta(float(b), float(a))} |" in md
    assert "- Base model: " in md and "template instruction, chat template on" in md


def test_accumulated_single_examples_match_one_padded_batch_and_waste_no_padding(tiny_llama_dir, tmp_path):
    folder = tmp_path / "data"
    folder.mkdir()
    rows = [{"dialogue": "#Person1#: " + " ".join(["word"] * (3 + 5 * (i % 4))) + "?\n#Person2#: Yes.",
             "summary": "They talk" + " a lot" * (i % 3) + "."} for i in range(8)]
    for name in ("train", "validation", "test"):
        (folder / f"{name}.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    results = {}
    for micro, accumulation in ((1, 4), (4, 1)):
        cfg = make_config(tiny_llama_dir, folder, tmp_path / f"run{micro}", "full", steps=2, batching="random")
        cfg.training.micro_batch_size, cfg.training.gradient_accumulation_steps = micro, accumulation
        done = events_of(cfg)[-1]
        results[micro] = ([c[1] for c in done.report["curves"]["train_loss"]], done.report["training"])
    # The loss is the mean over every summary token of the step, however the step is split.
    assert results[1][0] == pytest.approx(results[4][0], abs=1e-5)
    assert results[1][1]["tokens_seen"] == results[4][1]["tokens_seen"]
    assert results[1][1]["padding_share"] == 0.0 < results[4][1]["padding_share"]


def test_a_failed_save_leaves_the_previous_artifact_whole(tmp_path):
    from playground.core.finetune.checkpoint import atomic_save_dir

    target = tmp_path / "adapter"
    atomic_save_dir(target, lambda d: (d / "adapter_model.safetensors").write_bytes(b"old"))

    def half_written(d):
        (d / "adapter_model.safetensors").write_bytes(b"ne")
        raise OSError("disk full")

    with pytest.raises(OSError):
        atomic_save_dir(target, half_written)
    assert (target / "adapter_model.safetensors").read_bytes() == b"old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["adapter"]  # no temporary folder left behind


@pytest.mark.parametrize("kind, expected", [
    ("gpt2", ["c_attn", "c_proj"]),
    ("bart", ["q_proj", "k_proj", "v_proj", "out_proj"]),
    ("gpt_neox", ["query_key_value", "dense"]),
])
def test_lora_targets_are_detected_per_architecture(kind, expected):
    from transformers import AutoConfig, AutoModelForCausalLM, AutoModelForSeq2SeqLM

    from playground.core.finetune import detect_lora_targets

    small = {"gpt2": dict(n_layer=1, n_head=2, n_embd=16, vocab_size=64),
             "bart": dict(encoder_layers=1, decoder_layers=1, d_model=16, encoder_attention_heads=2,
                          decoder_attention_heads=2, encoder_ffn_dim=32, decoder_ffn_dim=32, vocab_size=64),
             "gpt_neox": dict(num_hidden_layers=1, num_attention_heads=2, hidden_size=16, intermediate_size=32,
                              vocab_size=64)}[kind]
    cfg = AutoConfig.for_model(kind, **small)
    cls = AutoModelForSeq2SeqLM if kind == "bart" else AutoModelForCausalLM
    assert detect_lora_targets(cls.from_config(cfg)) == expected
