from playground.qt.build.panel import BuildPanel
from playground.qt.panel import run_panel_standalone

raise SystemExit(run_panel_standalone(BuildPanel))
