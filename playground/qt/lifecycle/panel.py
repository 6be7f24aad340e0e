"""The Lifecycle tab: making a model cheaper to run (precision, pruning, distillation, the KV cache,
speculative decoding), then what fine-tuning forgot and scaling laws, as named sections.

One tab after Evaluate, in lifecycle order, with a section each: these are measurements of the same
model's life (how it is shipped and run, what tuning costs, how it was scaled), and the tab bar is
already full. The deployment sections come first and in the order of Lab 5. Each section has its own
run, progress and Stop.
"""

from __future__ import annotations

from PySide6.QtWidgets import QVBoxLayout, QWidget

from playground.qt.lifecycle.distill_page import DistillPage
from playground.qt.lifecycle.forgetting_page import ForgettingPage
from playground.qt.lifecycle.kv_cache_page import KVCachePage
from playground.qt.lifecycle.precision_page import PrecisionPage
from playground.qt.lifecycle.pruning_page import PruningPage
from playground.qt.lifecycle.scaling_page import ScalingPage
from playground.qt.lifecycle.speculative_page import SpeculativePage
from playground.qt.panel import Panel
from playground.qt.sections import SectionsMixin


class LifecyclePanel(SectionsMixin, Panel):
    title = "Lifecycle"
    guide = ("Make the model cheaper to run (precision, pruning, distillation, the KV cache, speculative "
             "decoding), see what fine-tuning forgot, and scaling laws.")
    help = """<h2>Lifecycle: deployment, forgetting, scaling laws</h2>
<p><b>Precision</b>: fewer bits per weight save memory; perplexity, KL divergence from FP32 and top-1
agreement say what the rounding cost. <b>Pruning</b>: zeroed weights (unstructured) cost quality but save
nothing on dense kernels; removed heads and layers make the model smaller and faster. <b>Distillation</b>:
a smaller student trained on the teacher's soft targets (at a temperature T) against one trained on the
hard labels alone. <b>KV cache</b>: the keys and values kept per layer so each new token costs one pass;
bytes per token = 2 &times; layers &times; KV heads &times; head size &times; bytes per value. <b>Speculative
decoding</b>: a draft proposes &gamma; tokens, the model checks them in one pass and keeps each with
probability min(1, p/q). <b>Forgetting</b>: fine-tuning can cost skills elsewhere; probes the
base passes, with the BF16 noise floor beside them, show whether it did. <b>Scaling laws</b>: training costs
about 6&middot;N&middot;D FLOPs; for a fixed budget there is a best split between model size and tokens.</p>"""

    def __init__(self, context, parent: QWidget | None = None) -> None:
        super().__init__(context, parent)
        self.make_sections()
        self.precision = PrecisionPage(context)
        self.forgetting = ForgettingPage(context)
        self.scaling = ScalingPage(context)
        self.add_section(self.precision, "Precision")
        self.add_section(PruningPage(context), "Pruning")
        self.add_section(DistillPage(context), "Distillation")
        self.add_section(KVCachePage(context), "KV cache")
        self.add_section(SpeculativePage(context), "Speculative decoding")
        self.add_section(self.forgetting, "Forgetting")
        self.add_section(self.scaling, "Scaling laws")
        layout = QVBoxLayout(self)
        layout.addWidget(self.sections)

    def lab_events(self) -> dict:
        return self.pages_lab_events()

    def reveal(self, control: str) -> QWidget | None:
        return self.reveal_in_pages(control)

    def check_forgetting(self, run_dir: str) -> None:
        self.sections.setCurrentWidget(self.forgetting)
        self.forgetting.check(run_dir)

    @property
    def busy(self) -> bool:
        return self.pages_busy()

    def stop(self) -> None:
        self.stop_pages()

    def on_model_changed(self, loaded) -> None:
        self.pages_model_changed(loaded)
