from playground.qt.finetune.panel import FinetunePanel
from playground.qt.panel import run_panel_standalone

raise SystemExit(run_panel_standalone(FinetunePanel))
