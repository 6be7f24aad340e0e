"""The shared progress strip and result header, as a person reads them."""

from playground.core.base.progress import StepMessage
from playground.core.base.provenance import Provenance
from playground.qt.widgets.progress_strip import ProgressStrip
from playground.qt.widgets.result_header import ResultHeader


def test_strip_names_the_phase_and_fills_per_phase(qtbot):
    strip = ProgressStrip()
    qtbot.addWidget(strip)
    stops = []
    strip.sig_stop.connect(lambda: stops.append(1))
    strip.start()
    assert not strip.isHidden() and strip.stop_button.isEnabled()
    strip.on_progress(0.66, StepMessage("Scoring the test set", 2, 3))
    assert strip.phase_label.text() == "Scoring the test set"
    assert "2 of 3" in strip.count_label.text() and "elapsed" in strip.count_label.text()
    strip.on_progress(0.0, StepMessage("Training", 0, 50))
    assert strip.phase_label.text() == "Training" and strip.bar.value() == 0
    strip.on_progress(None, "Loading the model")  # a plain message: shown as the phase, bar busy
    assert strip.phase_label.text() == "Loading the model" and strip.bar.maximum() == 0
    strip.stop_button.click()
    assert stops == [1]
    strip.finish()
    assert strip.isHidden() and not strip.stop_button.isEnabled()


def test_header_says_model_adapter_and_staleness(qtbot):
    header = ResultHeader("After", empty="Run it to see a result here.")
    qtbot.addWidget(header)
    assert header.plain_text() == "After · Run it to see a result here."
    header.show_provenance(Provenance(model="SmolLM2-135M", adapter="run-3", precision="float32",
                                      settings="greedy"))
    text = header.plain_text()
    assert text.startswith("After · SmolLM2-135M + adapter run-3 · float32 · greedy · ")
    header.mark_stale()
    assert "out of date" in header.plain_text()
    header.clear_result("")
    assert header.provenance is None and "Run it" in header.plain_text()
