import subprocess
import sys

from playground.core.decoding.generation import GenerationSettings, generate_text
from playground.core.prompting.lab import Variant, python_snippet, run_variants
from playground.core.prompting.prompts import Shot

D = "#Person1#: Can you fix my bike today?\n#Person2#: Yes, come back at five."
S = Shot("t1", "#Person1#: Tea?\n#Person2#: Yes please.", "#Person2# accepts tea.")


def test_variants_stream_then_score(tiny_llama):
    variants = [Variant("0-shot", "instruction"), Variant("1-shot", "instruction", [S])]
    events = list(run_variants(tiny_llama, D, "#Person2# will fix the bike by five.", variants,
                               GenerationSettings.make(max_new_tokens=6, stop_at_eos=False, top_n=0)))
    done = [e for e in events if e.done]
    assert [e.index for e in done] == [0, 1]
    assert all(set(e.scores) == {"rouge1", "rouge2", "rougeL"} for e in done)
    assert done[1].prompt_tokens > done[0].prompt_tokens  # the example takes room
    assert S.reference in done[1].prompt and S.reference not in done[0].prompt
    assert any(not e.done for e in events)


def test_variants_run_on_an_encoder_decoder_model(tiny_t5):
    variants = [Variant("0-shot", "flan"), Variant("1-shot", "flan", [S], use_chat_template=True)]
    done = [e for e in run_variants(tiny_t5, D, "#Person2# will fix the bike by five.", variants,
                                    GenerationSettings.make(max_new_tokens=4, stop_at_eos=False, top_n=0)) if e.done]
    assert [e.index for e in done] == [0, 1]
    assert all(e.text and "rouge1" in e.scores for e in done)
    assert done[1].prompt_tokens > done[0].prompt_tokens


def test_hand_edited_prompt_wins(tiny_llama):
    v = Variant("edited", "instruction", prompt_override="My own prompt:")
    done = [e for e in run_variants(tiny_llama, D, "", [v], GenerationSettings.make(max_new_tokens=3)) if e.done]
    assert done[0].prompt == "My own prompt:" and done[0].scores == {}


def test_cancel_stops_between_variants(tiny_llama):
    calls = {"n": 0}

    def cancelled():
        calls["n"] += 1
        return calls["n"] > 4

    variants = [Variant(str(i), "instruction") for i in range(3)]
    events = list(run_variants(tiny_llama, D, "x", variants, GenerationSettings.make(max_new_tokens=20, stop_at_eos=False),
                               cancelled))
    assert not any(e.done and e.index == 2 for e in events)


def test_copy_as_python_reproduces_the_app(tiny_llama, tiny_llama_dir, tmp_path):
    prompt = "Summarize the following conversation.\n\n" + D + "\n\nSummary:"
    settings = GenerationSettings.make(max_new_tokens=6, stop_at_eos=True)
    code = python_snippet(str(tiny_llama_dir), prompt, settings)
    script = tmp_path / "snippet.py"
    script.write_text(code)
    out = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    assert out.stdout.rstrip("\n") == generate_text(tiny_llama, prompt, settings)


def test_a_comparison_reports_each_variant_as_a_named_phase(tiny_llama):
    """Issue 28: the progress strip reads 'Writing the 1-shot summary (2 of 3)', token x of the most."""
    from playground.core.base.progress import StepMessage

    class Handle:
        def __init__(self):
            self.reports = []

        def report(self, fraction, message):
            self.reports.append((fraction, message))

    handle = Handle()
    variants = [Variant(f"{n}-shot", "instruction") for n in (0, 1, 2)]
    settings = GenerationSettings.make(max_new_tokens=4, stop_at_eos=False)
    list(run_variants(tiny_llama, D, "ref", variants, settings, handle=handle))
    messages = [m for _f, m in handle.reports]
    assert all(isinstance(m, StepMessage) for m in messages)
    phases = list(dict.fromkeys(m.phase for m in messages))
    assert phases[:3] == ["Writing the 0-shot summary (1 of 3)", "Scoring the 0-shot summary with ROUGE",
                          "Writing the 1-shot summary (2 of 3)"]
    writing = [m for m in messages if m.phase.startswith("Writing the 2-shot")]
    assert [m.done for m in writing] == [0, 1, 2, 3, 4] and {m.total for m in writing} == {4}


def test_the_prompt_comparison_notebook_prints_rouge_on_the_0_to_100_scale():
    from playground.core.labs.notebook import prompt_comparison_cells

    code = "".join(src for kind, src in prompt_comparison_cells(
        {"variants": [{"label": "0-shot", "prompt": "p"}], "reference": "r", "settings": {}}) if kind == "code")
    assert "ROUGE (0-100)" in code and "100 * s:.1f" in code
