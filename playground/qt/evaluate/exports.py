"""What the Evaluate tab hands out: the session handout's part, the CSV and the HTML report."""

from __future__ import annotations

from PySide6.QtWidgets import QFileDialog

from playground.core.base.errors import describe_exception


class ExportsMixin:
    """Exports of EvaluatePanel; expects ``reports``, ``run_info``, ``results_view`` and ``labels``."""

    def session_snapshot(self) -> list[tuple[str, str]]:
        """The scores table with each system's model, for the session handout."""
        if not self.reports:
            return []
        from playground.core.evaluation.metrics import format_table

        info = self.run_info
        provenance = info.get("provenance") or {}
        systems = "\n".join(f"{k}: {provenance[k].line() if k in provenance else v}"
                             for k, v in info.get("models", {}).items())
        n = len(self.results_view.results)
        return [(f"Evaluation on {info.get('dataset', '')}: {n} examples{' (stopped early)' if self.stopped else ''}",
                 f"{systems}\n\n{format_table(self.reports)}")]

    def session_figures(self) -> list:
        """The score chart, once something was scored (an empty chart says nothing)."""
        return [self.results_view.chart.figure] if self.reports else []

    def export_csv(self, path: str) -> None:
        from playground.core.evaluation.report import write_csv

        write_csv(path, self.results_view.results, self.labels)

    def export_html(self, path: str) -> None:
        from playground.core.evaluation.report import write_html

        info = self.run_info
        write_html(path, self.results_view.results, self.reports, title="Evaluation",
                   dataset=info.get("dataset", ""), model=info.get("model", ""),
                   tokenizer=info.get("tokenizer", "default"), use_stemmer=info.get("use_stemmer", True),
                   stopped=self.stopped,
                   provenance={k: p.as_dict() for k, p in (info.get("provenance") or {}).items()})

    def _ask_export_csv(self) -> None:
        self._ask_export("Export CSV", "evaluation.csv", "CSV (*.csv)", self.export_csv)

    def _ask_export_html(self) -> None:
        self._ask_export("Export HTML report", "evaluation.html", "HTML (*.html)", self.export_html)

    def _ask_export(self, title: str, name: str, filt: str, write) -> None:
        path, _ = QFileDialog.getSaveFileName(self, title, name, filt)
        if not path:
            return
        try:
            write(path)
        except Exception as exc:
            msg, hint = describe_exception(exc)
            self.message_label.setText(f"{msg} {hint}".strip())
        else:
            self.message_label.setText("")
            self.rate_label.setText(f"Saved {path}")
