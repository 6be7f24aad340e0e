from playground.qt.evaluate.panel import EvaluatePanel
from playground.qt.panel import run_panel_standalone

raise SystemExit(run_panel_standalone(EvaluatePanel))
