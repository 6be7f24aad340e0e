import pytest

from playground.core.base.errors import InputError
from playground.core.prompting.tokens import tokenize_text, visible, word_splits


def test_pieces_carry_the_tokenizer_ids_and_cover_the_text(bundled_tokenizer):
    text = "Hello world, unbelievably cafés 日本\nnew"
    pieces = tokenize_text(bundled_tokenizer, text)
    assert [p.id for p in pieces] == bundled_tokenizer(text)["input_ids"]
    assert [p.index for p in pieces] == list(range(len(pieces)))
    # Every character belongs to exactly one piece, in order, even where a character is split into bytes.
    assert "".join(p.text for p in pieces) == text
    for p in pieces:
        if p.text:
            assert text[p.start:p.end].endswith(p.text)
    assert not any(p.special for p in pieces)


def test_special_tokens_are_marked(bundled_tokenizer):
    pieces = tokenize_text(bundled_tokenizer, "<|im_start|>user\nhi<|im_end|>")
    specials = [p for p in pieces if p.special]
    assert [p.label for p in specials] == ["<|im_start|>", "<|im_end|>"]
    assert all(p.word is None for p in specials)
    assert pieces[0].id == bundled_tokenizer.convert_tokens_to_ids("<|im_start|>")


def test_long_rare_words_split_into_sub_words(bundled_tokenizer):
    text = "The cat is unbelievably antidisestablishmentarian"
    pieces = tokenize_text(bundled_tokenizer, text)
    splits = {s.word.strip(): s for s in word_splits(pieces, text)}
    assert len(splits["cat"].pieces) == 1
    long_word = splits["antidisestablishmentarian"]
    assert len(long_word.pieces) > 2
    assert "".join(long_word.pieces).replace("␣", "") == "antidisestablishmentarian"


def test_labels_make_whitespace_visible(bundled_tokenizer):
    pieces = tokenize_text(bundled_tokenizer, "a b\nc")
    assert "␣b" in [p.label for p in pieces]
    assert any("↵" in p.label for p in pieces)
    assert visible(" \t\n") == "␣⇥↵"


@pytest.mark.parametrize("text", ["", "   \n "])
def test_empty_text_is_refused(bundled_tokenizer, text):
    with pytest.raises(InputError, match="empty"):
        tokenize_text(bundled_tokenizer, text)
