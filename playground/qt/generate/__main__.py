from playground.qt.generate.panel import GeneratePanel
from playground.qt.panel import run_panel_standalone

raise SystemExit(run_panel_standalone(GeneratePanel))
