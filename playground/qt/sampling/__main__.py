from playground.qt.panel import run_panel_standalone
from playground.qt.sampling.panel import SamplingPanel

raise SystemExit(run_panel_standalone(SamplingPanel))
