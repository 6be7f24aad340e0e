"""Lab 4 and the Build tab agree: the tab reports every rag.* event the lab's checks read, and reveals every
control the lab's steps name for 'Show me'."""

from playground.core.labs import load_labs
from playground.core.labs.state import BUILD_EVENTS, EVENTS, LabState


def test_the_build_panel_reports_the_events_and_reveals_the_controls_lab_4_names(qtbot, app_context):
    from playground.qt.build import BuildPanel

    panel = BuildPanel(app_context)
    qtbot.addWidget(panel)
    events = panel.lab_events()
    assert set(events) == BUILD_EVENTS and set(events) <= set(EVENTS)
    state = LabState()
    state.watching(events)
    assert state.build_available
    (lab,) = [lab for lab in load_labs()[0] if lab.id == "grounding"]
    for step in lab.steps:
        assert step.tab == panel.title
        assert panel.reveal(step.control) is not None, step.control
