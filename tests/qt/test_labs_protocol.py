"""The panel protocol: every tab declares it, the labs watcher and the notebook export use nothing else,
and a lab check ticks when a person does the step in a tab."""

from PySide6.QtCore import QObject, Qt, Signal

from playground.core.labs import KNOWN_TABS, LabState, run_check
from playground.core.labs.notebook import EXPERIMENTS
from playground.core.labs.state import EVENTS
from playground.qt.labs.export import collect_experiments
from playground.qt.labs.watcher import LabStateWatcher
from tests.qt.shown import main_window


class ProtocolOnly(QObject):
    """A tab as the watcher and the export may see it: the protocol and nothing else."""

    title = "Toy"
    notebook_kind = "generation"
    sig_done = Signal(int)
    """tokens written"""

    def __init__(self) -> None:
        super().__init__()
        self.prompt = ""

    def lab_events(self) -> dict:
        return {"generation": (self.sig_done, lambda n: {"do_sample": False, "tokens": n} if n else None)}

    def notebook_state(self):
        return {"kind": "generation", "prompt": self.prompt, "settings": {}} if self.prompt else None


def test_the_watcher_and_the_export_need_only_the_protocol(qtbot):
    toy = ProtocolOnly()
    watcher = LabStateWatcher()
    watcher.watch([toy])
    toy.sig_done.emit(0)  # the payload function says nothing happened: no change, no signal
    assert watcher.state == LabState()
    with qtbot.waitSignal(watcher.sig_state_changed, timeout=1000):
        toy.sig_done.emit(3)
    assert watcher.state.generations == [{"do_sample": False, "tokens": 3}]
    assert run_check("greedy_generation", watcher.state).passed

    found, missing = collect_experiments([toy], ["generation", "attention"])
    assert found == [] and missing == ["generation: nothing to export yet (run it in the Toy tab).",
                                       "attention: no tab in this build exports it."]
    toy.prompt = "The sea is"
    found, _ = collect_experiments([toy], ["generation"])
    assert found == [{"kind": "generation", "prompt": "The sea is", "settings": {}}]


def test_every_tab_declares_the_protocol(qtbot, app_context):
    window = main_window(qtbot, app_context)
    titles = [p.title for p in window.panels]
    assert tuple(titles) == KNOWN_TABS  # the lab files' vocabulary is the tabs' titles, in the tabs' order
    assert [window.tabs.tabText(i) for i in range(window.tabs.count())] == titles
    # a tab, or one of its sections (panel.pages), gives each experiment
    kinds = [s.notebook_kind for p in window.panels for s in (p, *getattr(p, "pages", ()))
             if getattr(s, "notebook_kind", "")]
    assert sorted(kinds) == sorted(EXPERIMENTS)  # every notebook experiment has one tab that gives it
    for panel in window.panels:
        assert panel.guide.endswith(".") and ". " not in panel.guide, panel.title  # one sentence
        assert set(panel.lab_events()) <= set(EVENTS), panel.title
        assert panel.notebook_state() is None, panel.title  # nothing run yet, nothing to export
    events = [name for p in window.panels for name in p.lab_events()]
    assert len(events) == len(set(events))  # each event comes from one tab
    assert window.labs_watcher.state.align_available  # the Align tab reports its events


def test_the_memory_estimate_step_ticks_when_a_person_opens_the_method_step(qtbot, wizard):
    watcher = LabStateWatcher()
    watcher.watch([wizard])
    seen = []
    watcher.sig_state_changed.connect(lambda: seen.append(run_check("memory_estimates_read", watcher.state).passed))
    qtbot.mouseClick(wizard.next_button, Qt.MouseButton.LeftButton)  # Model -> Data
    assert wizard.current == 1 and seen == []
    assert not run_check("memory_estimates_read", watcher.state).passed
    with qtbot.waitSignal(watcher.sig_state_changed, timeout=5000):
        qtbot.mouseClick(wizard.next_button, Qt.MouseButton.LeftButton)  # Data -> Method, with its estimate
    assert wizard.current == 2 and seen == [True]
    assert "estimate is shown" in run_check("memory_estimates_read", watcher.state).detail
    qtbot.mouseClick(wizard.back_button, Qt.MouseButton.LeftButton)
    qtbot.mouseClick(wizard.next_button, Qt.MouseButton.LeftButton)
    assert wizard.current == 2 and seen == [True]  # seen once; the state does not change again
