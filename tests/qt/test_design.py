"""The design module (issue 28): readable colours, folded lessons, one chart style."""

import pytest

from playground.qt import design
from playground.qt.widgets.lesson import LessonLabel, split_lesson

LONG = ("<b>Softmax over the whole vocabulary.</b> For every position the model scores each of its tokens "
        "and the softmax turns the scores into probabilities; temperature, top-k and top-p reshape them.")


@pytest.mark.parametrize("dark", [False, True])
def test_text_colours_meet_aa_contrast_on_their_window(dark):
    c = design.colours(dark)
    for name in ("text", "lesson", "error", "warning", "ok"):
        assert design.contrast(getattr(c, name), c.window) >= 4.5, name


def test_contrast_matches_the_wcag_formula_at_its_ends():
    assert design.contrast("#000000", "#ffffff") == pytest.approx(21.0)
    assert design.contrast("#777777", "#777777") == pytest.approx(1.0)


def test_a_long_lesson_folds_to_its_bold_sentence_and_opens_with_more(qtbot):
    label = LessonLabel(LONG)
    qtbot.addWidget(label)
    assert "More" in label.text() and "temperature" not in label.text()
    assert label.full_text() == LONG
    label.linkActivated.emit("#more")  # what clicking "More…" sends
    assert "temperature" in label.text() and "Less" in label.text()
    label.linkActivated.emit("#less")
    assert "temperature" not in label.text()


def test_short_lessons_and_later_text_are_shown_whole(qtbot):
    assert split_lesson("<b>Short.</b> Two words.") == ("", "<b>Short.</b> Two words.")
    label = LessonLabel("")
    qtbot.addWidget(label)
    label.setText(LONG)  # a verdict or a note set after a run is never folded
    assert label.text() == LONG


def test_every_chart_made_by_the_shared_canvas_has_the_apps_style(qapp):
    import matplotlib

    from playground.qt.widgets.plot import make_canvas

    figure, canvas = make_canvas()
    ax = figure.add_subplot(111)
    assert matplotlib.rcParams["grid.color"] == design.CHART_STYLE["grid.color"]
    assert not ax.spines["top"].get_visible()
    (line,) = ax.plot([0, 1], [0, 1])
    assert matplotlib.colors.to_hex(line.get_color()) == design.CHART_COLOURS[0]
