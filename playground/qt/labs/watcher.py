"""Fills a core LabState from the tabs' signals (nothing is polled): the checks read only that state."""

from __future__ import annotations

from dataclasses import asdict

from PySide6.QtCore import QObject, Signal

from playground.core.labs import LabState


class LabStateWatcher(QObject):
    sig_state_changed = Signal()
    """something the learner did changed the LabState (read it from .state)"""

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.state = LabState()
        self.panels: dict[str, object] = {}

    def watch(self, panels) -> None:
        """Connect to the signals of the given panels (by their tab title); unknown panels are skipped."""
        for panel in panels:
            title = getattr(panel, "title", "")
            self.panels[title] = panel
            hook = getattr(self, "_watch_" + title.lower().replace("-", ""), None)
            if hook is not None:
                hook(panel)
            if hasattr(panel, "lab_state") and hasattr(panel, "sig_lab_state_changed"):  # e.g. an Align tab
                panel.sig_lab_state_changed.connect(lambda p=panel, t=title: self._from_panel(t, p))

    def _changed(self) -> None:
        self.sig_state_changed.emit()

    # per tab -------------------------------------------------------------------------------------
    def _watch_prompt(self, p) -> None:
        def run_finished(event) -> None:
            variants = p.last_run().get("variants", [])
            v = variants[0] if variants else None
            self.state.prompt_runs.append({"shots": len(v.shots) if v else 0, "template": v.template if v else "",
                                           "scores": dict(event.scores)})
            self._changed()

        def compare_finished() -> None:
            variants = p.last_run().get("variants", [])
            self.state.prompt_comparisons.append({
                "mode": p.compare_mode.currentData(), "labels": [v.label for v in variants],
                "shots": [len(v.shots) for v in variants], "templates": [v.template for v in variants],
                "scored": p.compare_view.scored})
            self._changed()

        def measured(over: bool) -> None:
            if over and not self.state.prompt_overflow_seen:
                self.state.prompt_overflow_seen = True
                self._changed()

        p.sig_run_finished.connect(run_finished)
        p.sig_compare_finished.connect(compare_finished)
        p.sig_prompt_measured.connect(measured)

    def _watch_generate(self, p) -> None:
        def finished(text: str) -> None:
            self.state.generations.append(dict(p.settings_from_controls().to_dict(), tokens=p.tokens))
            self._changed()

        p.sig_generation_finished.connect(finished)

    def _watch_sampling(self, p) -> None:
        def settings() -> None:
            self.state.sampling = asdict(p.controls.settings())
            self._changed()

        def rollouts() -> None:
            self.state.rollouts.append(dict(asdict(p.controls.settings()), n=getattr(p, "rollouts_shown", 0)))
            self._changed()

        p.controls.sig_changed.connect(settings)
        p.sig_rollouts_finished.connect(rollouts)
        self.state.sampling = asdict(p.controls.settings())

    def _watch_finetune(self, p) -> None:
        def step(index: int) -> None:
            if p.pages[index] is p.method_page and "shown" not in self.state.memory_estimates_seen:
                self.state.memory_estimates_seen.append("shown")
                self._changed()

        def run_finished(info: dict) -> None:
            self.state.finetune_runs.append(dict(info))
            self._changed()

        p.sig_step_changed.connect(step)
        p.train_page.sig_run_finished.connect(run_finished)

    def _watch_evaluate(self, p) -> None:
        def finished(reports) -> None:
            if not reports:
                return
            rouge = {label: {k: float(r.rouge[k]) for k in ("rouge1", "rouge2", "rougeL")}
                     for label, r in reports.items()}
            self.state.evaluations.append({"systems": list(reports), "rouge": rouge,
                                           "finetune_runs_before": len(self.state.finetune_runs)})
            self._changed()

        p.sig_evaluation_finished.connect(finished)

    def _watch_align(self, p) -> None:
        self.state.align_available = True
        align = self.state.align
        align.setdefault("runs", [])

        def labels(n: int) -> None:
            align["pairs_labelled"] = int(n)
            self._changed()

        def trained(_rm) -> None:
            report = getattr(p.reward, "report", None)
            align["reward_accuracy"] = float(report.test_accuracy) if report is not None else None
            self._changed()

        def done(ev) -> None:
            r = ev.report
            run = {"algorithm": r.get("method", ""), "kl_coef": float(r.get("beta", 0) or 0)}
            steps = r.get("per_step", [])
            if steps:
                run.update(reward_before=steps[0]["reward_mean"], reward_after=steps[-1]["reward_mean"])
            align["runs"].append(run)
            self._changed()

        p.feedback.sig_labels_changed.connect(labels)
        p.reward.sig_trained.connect(trained)
        p.optimize.sig_done.connect(done)

    def _from_panel(self, title: str, panel) -> None:
        if title == "Align":
            self.state.align_available = True
            self.state.align = dict(panel.lab_state())
        self._changed()
