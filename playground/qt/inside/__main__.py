from playground.qt.inside.panel import InsidePanel
from playground.qt.panel import run_panel_standalone

raise SystemExit(run_panel_standalone(InsidePanel))
