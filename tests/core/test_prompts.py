import pytest

from playground.core.base.errors import InputError
from playground.core.prompting.prompts import (
    TEMPLATES,
    Shot,
    assemble,
    clean_summary,
    count_prompt_tokens,
    max_shots_that_fit,
    resolve_template,
    select_shots,
)

D = "#Person1#: Hi.\n#Person2#: Hello!"
S1 = Shot("t1", "#Person1#: Tea?\n#Person2#: Yes please.", "#Person2# accepts tea.")
S2 = Shot("t2", "#Person1#: Late again?\n#Person2#: Sorry.", "#Person2# apologises for being late.")


def test_zero_shot_instruction_exact():
    p = assemble(D, [], "instruction")
    assert p.text == "Summarize the following conversation.\n\n#Person1#: Hi.\n#Person2#: Hello!\n\nSummary:"


def test_one_shot_instruction_exact():
    p = assemble(D, [S1], "instruction")
    assert p.text == (
        "Summarize the following conversation.\n\n#Person1#: Tea?\n#Person2#: Yes please.\n\n"
        "Summary: #Person2# accepts tea.\n\n"
        "Summarize the following conversation.\n\n#Person1#: Hi.\n#Person2#: Hello!\n\nSummary:")


def test_two_shot_flan_exact():
    p = assemble(D, [S1, S2], "flan")
    assert p.text == (
        "Dialogue:\n#Person1#: Tea?\n#Person2#: Yes please.\n\nWhat was going on?\n#Person2# accepts tea.\n\n"
        "Dialogue:\n#Person1#: Late again?\n#Person2#: Sorry.\n\nWhat was going on?\n"
        "#Person2# apologises for being late.\n\n"
        "Dialogue:\n#Person1#: Hi.\n#Person2#: Hello!\n\nWhat was going on?\n")


@pytest.mark.parametrize("name,expected", [
    ("flan-brief", "Dialogue:\n" + D + "\n\nBriefly summarize that dialogue.\n"),
    ("tldr", D + "\n\nTL;DR:"),
])
def test_other_templates_zero_shot(name, expected):
    assert assemble(D, [], name).text == expected


def test_free_template_with_and_without_summary_placeholder():
    p = assemble(D, [S1], "Chat log:\n{dialogue}\nGist: {summary} [end]")
    assert p.text == ("Chat log:\n" + S1.input + "\nGist: " + S1.reference + " [end]\n\n" + "Chat log:\n" + D + "\nGist:")
    p = assemble(D, [S1], "{dialogue} => ")
    assert p.text == S1.input + " => " + S1.reference + "\n\n" + D + " =>"


def test_template_without_dialogue_is_refused():
    with pytest.raises(InputError, match="no \\{dialogue\\}"):
        resolve_template("Summarize this please.")
    with pytest.raises(InputError, match="placeholder"):
        resolve_template("{dialogue} {speaker}")


def test_sections_cover_the_text():
    p = assemble(D, [S1, S2], "instruction")
    assert p.sections[0].start == 0 and p.sections[-1].end == len(p.text)
    kinds = [s.kind for s in p.sections]
    assert kinds == ["example", "instruction", "dialogue", "instruction"]
    dia = next(s for s in p.sections if s.kind == "dialogue")
    assert p.text[dia.start:dia.end] == D


def test_token_counts_equal_the_tokenizer(bundled_tokenizer):
    for shots in ([], [S1], [S1, S2]):
        for name in TEMPLATES:
            p = assemble(D, shots, name)
            c = count_prompt_tokens(bundled_tokenizer, p)
            assert c.total == len(bundled_tokenizer(p.text)["input_ids"])
            assert (c.examples > 0) == bool(shots)
            assert c.dialogue > 0 and c.instruction > 0


def test_chat_template_sections_and_counts(bundled_tokenizer):
    p = assemble(D, [S1], "instruction", tokenizer=bundled_tokenizer, use_chat_template=True)
    assert p.chat and p.text.endswith("<|im_start|>assistant\n")
    assert S1.reference in p.text and D in p.text
    dia = next(s for s in p.sections if s.kind == "dialogue")
    assert p.text[dia.start:dia.end] == D
    c = count_prompt_tokens(bundled_tokenizer, p)
    assert c.total == len(bundled_tokenizer(p.text, add_special_tokens=False)["input_ids"])
    assert c.examples > 0


def test_select_shots_never_includes_the_example():
    pool = [Shot(f"id{i}", f"dialogue {i}", f"summary {i}") for i in range(10)]
    for seed in range(20):
        picked = select_shots(pool, 3, exclude_id="id4", seed=seed)
        assert len(picked) == 3 and all(s.id != "id4" for s in picked)
    assert select_shots(pool, 2, seed=1) == select_shots(pool, 2, seed=1)
    assert [s.id for s in select_shots(pool, 2, chosen_ids=["id7", "id2"])] == ["id7", "id2"]
    same_text = select_shots(pool, 9, exclude_text="dialogue 3", seed=0)
    assert all(s.input != "dialogue 3" for s in same_text)
    with pytest.raises(InputError, match="only 9"):
        select_shots(pool, 10, exclude_id="id0")


def test_shots_that_fit(bundled_tokenizer):
    shots = [S1, S2, S1, S2]
    n0 = count_prompt_tokens(bundled_tokenizer, assemble(D, [], "instruction")).total
    n2 = count_prompt_tokens(bundled_tokenizer, assemble(D, shots[:2], "instruction")).total
    assert max_shots_that_fit(bundled_tokenizer, D, shots, "instruction", window=n2 + 10, reserve=10) == 2
    assert max_shots_that_fit(bundled_tokenizer, D, shots, "instruction", window=n0 + 5, reserve=5) == 0


def test_clean_summary():
    assert clean_summary(" Summary: They meet.\n\nSummarize the following") == "They meet."
    assert clean_summary("TL;DR: ok") == "ok"
