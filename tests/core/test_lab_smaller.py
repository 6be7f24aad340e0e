"""Lab 5 (make it smaller): the precision.* and pruning.* events fill the state its checks read."""

from playground.core.labs import LabState, load_labs, run_check


def test_lab5_loads_with_its_steps_in_the_lifecycle_tab():
    labs, problems = load_labs()
    assert problems == []
    lab = {lab.id: lab for lab in labs}["smaller"]
    assert lab.title == "Lab 5 · Make it smaller and faster"
    assert {s.tab for s in lab.steps} == {"Lifecycle"}
    assert [s.check for s in lab.steps][:2] == ["precision_swept", "pruning_unstructured_run"]


def test_precision_and_pruning_events_tick_their_checks():
    s = LabState()
    assert s.record("precision.run", {"formats": ["fp32", "bf16"], "rows": 2})
    assert not run_check("precision_swept", s).passed  # no INT format
    s.record("precision.run", {"formats": ["fp32", "int8"], "rows": 2})
    assert run_check("precision_swept", s).passed

    s.record("pruning.run", {"method": "global", "sparsity": 0.3})
    assert not run_check("pruning_unstructured_run", s).passed  # the step asks for half the weights
    s.record("pruning.run", {"method": "layer", "sparsity": 0.5})
    assert run_check("pruning_unstructured_run", s).passed
    assert not run_check("pruning_heads_run", s).passed and not run_check("pruning_layers_run", s).passed
    s.record("pruning.run", {"method": "heads", "sparsity": 0.3})
    s.record("pruning.run", {"method": "layers", "sparsity": 0.2})
    assert run_check("pruning_heads_run", s).passed and run_check("pruning_layers_run", s).passed

    s.record("pruning.swept", {"methods": ["global"], "points": 5})
    assert not run_check("pruning_swept", s).passed  # one kind is not a comparison
    s.record("pruning.swept", {"methods": ["global", "heads", "layers"], "points": 13})
    assert run_check("pruning_swept", s).passed
    assert not run_check("pruned_model_used", s).passed
    s.record("pruning.used", {"method": "heads", "sparsity": 0.3})
    assert run_check("pruned_model_used", s).passed
