"""Big training files (issue 29, item 14): batched tokenization, progress with counts, Stop between batches."""

from __future__ import annotations

import csv

import pytest

from playground.core.base.errors import Cancelled
from playground.core.base.handle import TaskHandle
from playground.core.evaluation.datasets import Example as Row
from playground.core.finetune import dataset as D
from playground.core.finetune import prepare as P
from playground.core.finetune.config import DataConfig
from playground.core.finetune.preview import preview_data


def write_csv(path, n):
    with open(path, "w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["id", "dialogue", "summary"])
        for i in range(n):
            w.writerow([i, f"Ann: lunch at {i}?\nBo: yes, at {i % 13}.", f"Ann and Bo meet at {i}."])
    return path


def rows():
    long = "A: " + " ".join(f"word{i}" for i in range(80))
    # multi-byte characters where the cuts fall
    wide = "\n".join(f"{'AB'[i % 2]}: café 中文字 🙂🙂 naïve — ok{i}" for i in range(30))
    texts = [("A: hi\nB: hello", "They greet."), (long, "A long one."), ("  A: é ñ 中文 🙂  ", " y "),
             ("A: ok", "S " * 60), ("A: x\n\n\nB: y", "Done."), (wide, "Wide."), (wide[:300], "Half."),
             (long + "\n\n\n\n" + long, "Twice."), ("A:" + " " * 200 + "z" * 300, "Odd.")]
    return [Row(id=str(i), input=d, reference=s, line=i + 2) for i, (d, s) in enumerate(texts)]


@pytest.mark.parametrize("template, chat, enc_dec, truncation, max_length", [
    ("instruction", False, False, "truncate_dialogue", 48), ("flan", False, False, "drop", 48),
    ("instruction", True, False, "truncate_dialogue", 90), ("instruction", False, True, "truncate_dialogue", 48)])
def test_batched_encoding_equals_encoding_row_by_row(bundled_tokenizer, template, chat, enc_dec, truncation,
                                                     max_length):
    enc = D.ExampleEncoder(bundled_tokenizer, template, max_length, truncation, enc_dec, chat)
    batch = enc.encode_batch(rows())
    one_by_one = [enc.encode(r) for r in rows()]  # the oracle: one tokenizer call per text, as before
    assert [s for _, s in batch] == [s for _, s in one_by_one]
    assert "ok" in {s for _, s in batch} and "dropped" in {s for _, s in batch}
    assert truncation == "drop" or sum(s == "truncated" for _, s in batch) >= 3
    for (a, _), (b, _) in zip(batch, one_by_one):
        assert (a is None) == (b is None)
        if a is not None:
            assert (a.input_ids, a.labels, a.prompt_len, a.row) == (b.input_ids, b.labels, b.prompt_len, b.row)
    assert enc.prompt_ids_batch([r.input.strip() for r in rows()]) == [enc.prompt_ids(r.input.strip()) for r in rows()]


@pytest.mark.parametrize("template", ["instruction", "Q{dialogue}Z"])
def test_batched_cuts_equal_the_row_by_row_cuts_including_retries(bundled_tokenizer, template, monkeypatch):
    """Random whitespace, digits and multi-byte text: some cuts merge differently and need a second try."""
    import collections
    import random

    rnd = random.Random(1)
    alphabet = "ab 1\n.:éü中🙂  xyz0099-''"
    texts = ["".join(rnd.choice(alphabet) for _ in range(rnd.randint(20, 200))).strip() or "a" for _ in range(300)]
    rows_ = [Row(id=str(i), input=t, reference="ok", line=i + 2) for i, t in enumerate(texts)]
    enc = D.ExampleEncoder(bundled_tokenizer, template, 40, "truncate_dialogue")
    tries = collections.Counter()
    cut = enc._cut
    monkeypatch.setattr(enc, "_cut", lambda dialogue, keep: tries.update([dialogue]) or cut(dialogue, keep))
    one_by_one = [enc.encode(r) for r in rows_]
    monkeypatch.undo()
    assert sum(n > 1 for n in tries.values()) >= 5  # the retry is exercised
    batch = enc.encode_batch(rows_)
    assert [s for _, s in batch] == [s for _, s in one_by_one]
    for (a, _), (b, _) in zip(batch, one_by_one):
        assert (a is None) == (b is None)
        assert a is None or (a.input_ids, a.labels, a.row) == (b.input_ids, b.labels, b.row)


def test_the_job_reports_counts_while_tokenizing_and_stops_between_batches(bundled_tokenizer, tmp_path):
    cfg = DataConfig(source=str(write_csv(tmp_path / "rows.csv", 3000)))
    events = list(_drain(P.prepare_data_events(cfg, bundled_tokenizer, False, handle=TaskHandle(), every=0.2)))
    messages = [e.message for e in events]
    assert messages[0] == "Read 3,000 rows; tokenizing them..."
    assert "Tokenized 1,024 of 3,000 rows..." in messages and "Tokenized 2,048 of 3,000 rows..." in messages
    assert messages[-1].startswith("Tokenized 3,000 rows in") and events[-1].fraction == 1.0
    fractions = [e.fraction for e in events]
    assert fractions == sorted(fractions)
    data = _drain.value
    assert len(data.train) + len(data.validation) + len(data.test) == 3000
    assert data.train == P.prepare_data(cfg, bundled_tokenizer, False).train  # same examples without events

    handle = TaskHandle()
    run = P.prepare_data_events(cfg, bundled_tokenizer, False, handle=handle, every=0.2)
    assert next(run).message.startswith("Read 3,000 rows")
    seen = next(run)
    assert seen.message == "Tokenized 1,024 of 3,000 rows..."
    handle.cancel()
    with pytest.raises(Cancelled):
        next(run)


def test_the_data_step_reports_counts_and_stops_between_batches(bundled_tokenizer, tmp_path):
    cfg = DataConfig(source=str(write_csv(tmp_path / "rows.csv", 3000)), use_chat_template=False)  # a plain prompt
    said = []
    preview = preview_data(cfg, bundled_tokenizer, handle=TaskHandle(lambda f, m: said.append((f, m))))
    assert sum(len(sp.lines) for sp in preview.splits.values()) == 3000
    assert said[0] == (0.0, "Read 3,000 rows; tokenizing them…")
    assert (1024 / 3000, "Tokenized 1,024 of 3,000 rows…") in said and said[-1][0] == 1.0
    enc = D.ExampleEncoder(bundled_tokenizer, cfg.template, cfg.max_length, cfg.truncation)
    train = P.load_split_rows(cfg, 0)["train"][0][:5]
    assert preview.splits["train"].prompt_tokens[:5] == [len(enc.prompt_ids(r.input.strip())) for r in train]
    assert preview.splits["train"].completion_tokens[:5] == [len(enc.completion_ids(r.reference)) for r in train]

    counts = []

    def stop_after_first_batch(fraction, message):
        counts.append(message)
        if message.startswith("Tokenized"):
            handle.cancel()  # a person pressing Stop while the first batch is reported

    handle = TaskHandle(stop_after_first_batch)
    with pytest.raises(Cancelled):
        preview_data(cfg, bundled_tokenizer, handle=handle)
    assert [m for m in counts if m.startswith("Tokenized")] == ["Tokenized 1,024 of 3,000 rows…"]


class _Drain:
    """Iterate a generator and keep what it returns (``value``)."""

    value = None

    def __call__(self, gen):
        try:
            while True:
                yield next(gen)
        except StopIteration as done:
            self.value = done.value


_drain = _Drain()
