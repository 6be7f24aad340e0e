import pytest

from playground.core.evaluation.datasets import Example
from playground.core.base.errors import InputError
from playground.core.prompting.summarize import (
    INSTRUCTION,
    build_prompt,
    clean_summary,
    pick_shots,
)

POOL = [Example(f"t{i}", f"#Person1#: Question {i}?\n#Person2#: Answer {i}.", f"Summary number {i}.")
        for i in range(6)]


def test_zero_shot_chat_prompt(tiny_llama):
    prompt = build_prompt(tiny_llama, "#Person1#: Hi.\n#Person2#: Hello.")
    assert f"{INSTRUCTION}\n\n#Person1#: Hi.\n#Person2#: Hello." in prompt
    assert prompt.count("<|im_start|>user") == 1
    assert prompt.rstrip().endswith("<|im_start|>assistant")  # the model answers next


def test_k_shot_chat_prompt_shows_worked_examples(tiny_llama):
    me = POOL[2]
    shots = pick_shots(POOL, 3, exclude=me)
    prompt = build_prompt(tiny_llama, me.input, shots)
    assert prompt.count("<|im_start|>user") == 4 and prompt.count("<|im_start|>assistant") == 4
    for s in shots:
        assert f"<|im_start|>assistant\n{s.reference}<|im_end|>" in prompt
    assert me.reference not in prompt


def test_shots_never_include_the_example_itself():
    for me in POOL:
        shots = pick_shots(POOL, 5, exclude=me)
        assert len(shots) == 5 and me not in shots
    # The same choice for everyone except the example that would have seen itself.
    a, b = pick_shots(POOL, 2, exclude=POOL[5]), pick_shots(POOL, 2, exclude=POOL[5])
    assert a == b
    same_text = Example("other-id", POOL[0].input, "x")
    assert POOL[0] not in pick_shots(POOL, 5, exclude=same_text)
    with pytest.raises(InputError, match="only 5 others"):
        pick_shots(POOL, 6, exclude=POOL[0])
    assert pick_shots(POOL, 0) == []


def test_encoder_decoder_gets_plain_text(tiny_t5):
    prompt = build_prompt(tiny_t5, "#Person1#: Hi.\n#Person2#: Hello.", POOL[:1])
    assert "<|im_start|>" not in prompt
    assert prompt.startswith(f"{INSTRUCTION}\n\n{POOL[0].input}\n\nSummary: {POOL[0].reference}")
    assert prompt.endswith("#Person2#: Hello.\n\nSummary:")


def test_clean_summary():
    assert clean_summary("  Summary: Tom buys milk.\n\nSummarize the following conversation.") == "Tom buys milk."
    assert clean_summary("Line one\nline two") == "Line one\nline two"
    assert clean_summary("") == ""


def test_empty_dialogue(tiny_llama):
    with pytest.raises(InputError, match="empty"):
        build_prompt(tiny_llama, "   ")
