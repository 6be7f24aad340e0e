from playground.qt.lifecycle.panel import LifecyclePanel
from playground.qt.panel import run_panel_standalone

raise SystemExit(run_panel_standalone(LifecyclePanel))
