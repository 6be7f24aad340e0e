"""Everything that imports PySide6. Heavy libraries (torch, transformers...) load lazily here."""
