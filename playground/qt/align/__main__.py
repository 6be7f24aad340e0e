from playground.qt.align.panel import AlignPanel
from playground.qt.panel import run_panel_standalone

raise SystemExit(run_panel_standalone(AlignPanel))
