"""Guided labs: lab files under ``resources/labs/``, named checks of the app's state, progress.

No Qt here: the Qt layer fills a :class:`LabState` from the tabs' signals and asks the checks.
"""

from playground.core.labs.checks import CHECKS, CheckResult, run_check
from playground.core.labs.model import KNOWN_TABS, Lab, LabError, Step, load_lab, load_labs
from playground.core.labs.progress import LabProgress
from playground.core.labs.state import LabState

__all__ = ["CHECKS", "CheckResult", "KNOWN_TABS", "Lab", "LabError", "LabProgress", "LabState", "Step",
           "load_lab", "load_labs", "run_check"]
