from playground.qt.panel import run_panel_standalone
from playground.qt.prompt.panel import PromptPanel

raise SystemExit(run_panel_standalone(PromptPanel))
