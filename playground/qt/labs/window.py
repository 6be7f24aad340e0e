"""The main window's side of the Labs: the watcher, the dock (made on first use), notebook export."""

from __future__ import annotations

from PySide6.QtCore import Qt


class LabsWindowMixin:
    """Mixed into MainWindow: expects ``panels``, ``context``, ``statusBar()``, ``show_error``."""

    labs_watcher = None
    _labs_dock = None

    def watch_labs(self) -> None:
        from playground.qt.labs.watcher import LabStateWatcher

        if self.labs_watcher is None:
            self.labs_watcher = LabStateWatcher(self)
            self.labs_watcher.watch(self.panels)

    @property
    def labs_dock(self):
        if self._labs_dock is None:
            from playground.qt.labs.dock import LabsDock

            self.watch_labs()
            self._labs_dock = LabsDock(self, self.labs_watcher)
            self.addDockWidget(Qt.DockWidgetArea.RightDockWidgetArea, self._labs_dock)
            # A third of the window at most, so the tab the step is about keeps most of the room.
            self.resizeDocks([self._labs_dock], [max(360, self.width() // 3)], Qt.Orientation.Horizontal)
            self._labs_dock.hide()
            if getattr(self, "presenting", False):
                self._labs_dock.show_presenting(True)
        return self._labs_dock

    def toggle_labs(self, show: bool | None = None):
        dock = self.labs_dock
        show = not dock.isVisible() if show is None else show
        dock.setVisible(show)
        if show:
            dock.raise_()
        return dock

    def export_notebook(self, path: str, lab=None) -> list[str]:
        """Write what the tabs hold (a lab's experiments, or all of them) as a notebook; returns what was
        left out, in plain words. Raises InputError when there is nothing to export."""
        missing, notebook = self._notebook(lab)
        from playground.core.labs.notebook import write_notebook

        write_notebook(notebook, path)
        return missing

    def _notebook(self, lab=None):
        """(what was left out, the notebook); raises PlaygroundError when there is nothing to export."""
        from playground.core.labs.notebook import build_notebook, model_ref
        from playground.qt.labs.export import collect_experiments

        loaded = self.context.session.require()
        kinds = list(lab.notebook) if lab is not None and lab.notebook else None
        experiments, missing = collect_experiments(self.panels, kinds)
        title = lab.title if lab is not None else "Experiments from LLM Playground"
        intro = (lab.intro if lab is not None else
                 "Each section reproduces one thing you did in the app, with plain transformers, peft and "
                 "rouge-score, on the same model, offline.")
        return missing, build_notebook(model_ref(loaded), experiments, title, intro)

    def export_notebook_dialog(self, lab=None) -> None:
        from PySide6.QtWidgets import QFileDialog

        from playground.core.base.errors import PlaygroundError

        name = (lab.id if lab is not None else "playground-experiments") + ".ipynb"
        path, _ = QFileDialog.getSaveFileName(self, "Export as notebook", name, "Jupyter notebook (*.ipynb)")
        if not path:
            return
        try:
            missing, notebook = self._notebook(lab)
        except PlaygroundError as exc:
            self.show_error("Nothing to export yet", exc.message, exc.hint)
            return
        from pathlib import Path

        from playground.core.labs.notebook import write_notebook

        try:
            write_notebook(notebook, path)
        except PlaygroundError as exc:  # the folder cannot be written: said with its name and what to do
            self.show_error("The notebook could not be saved", exc.message, exc.hint)
            return
        except OSError as exc:  # anything else the disk says, still without the temporary file's name
            self.show_error("The notebook could not be saved",
                            f"Saving the notebook in {Path(path).parent} failed ({exc.strerror or exc}).",
                            "Choose a folder you can write to and export again.")
            return
        note = f" Left out: {' '.join(missing)}" if missing else ""
        self.statusBar().showMessage(f"Notebook saved to {path}.{note}", 10000)
