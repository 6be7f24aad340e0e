"""A tab made of sections (a QTabWidget of pages), each page a part with its own run: what the tab owes
the panel protocol (busy, Stop, model changes, lab events, lab controls, notebook experiments) reaches
every page from one place.

A page is a QWidget with a ``slot`` (its TaskSlot) and, optionally, ``on_model_changed(loaded)``,
``lab_events()``, ``reveal(control)`` and ``notebook_kind`` / ``notebook_state()``
(``playground.qt.labs.export`` reads those from ``panel.pages``).
"""

from __future__ import annotations

from PySide6.QtWidgets import QTabWidget, QWidget


class SectionsMixin:
    """For a Panel: ``self.sections`` (made by ``make_sections``) and ``self.pages`` (added by ``add_section``)."""

    def make_sections(self) -> QTabWidget:
        self.sections = QTabWidget()
        self.sections.setDocumentMode(True)
        self.pages: list[QWidget] = []
        return self.sections

    def add_section(self, page: QWidget, title: str) -> None:
        self.pages.append(page)
        self.sections.addTab(page, title)

    def pages_busy(self) -> bool:
        return any(p.slot.busy for p in self.pages)

    def stop_pages(self) -> None:
        for page in self.pages:
            page.slot.stop()

    def pages_model_changed(self, loaded) -> None:
        for page in self.pages:
            if hasattr(page, "on_model_changed"):
                page.on_model_changed(loaded)

    def pages_lab_events(self) -> dict:
        events: dict = {}
        for page in self.pages:
            events.update(page.lab_events() if hasattr(page, "lab_events") else {})
        return events

    def reveal_in_pages(self, control: str) -> QWidget | None:
        """A section's control: show its section, then return the control."""
        for page in self.pages:
            found = page.reveal(control) if hasattr(page, "reveal") else None
            if found is not None:
                self.sections.setCurrentWidget(page)
                return found
        return None
