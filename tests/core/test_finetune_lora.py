"""One LoRA configuration for fine-tuning, align, the reward model and the notebook templates."""

from __future__ import annotations


def test_lora_config_and_its_notebook_source_are_the_same_config():
    from peft import LoraConfig

    from playground.core.finetune.lora import lora_config, lora_config_code

    cfg = lora_config(rank=4, target_modules=["q_proj", "v_proj"])
    assert (cfg.r, cfg.lora_alpha, cfg.lora_dropout) == (4, 8, 0.0)  # alpha 2 x rank unless given
    assert set(cfg.target_modules) == {"q_proj", "v_proj"} and cfg.task_type is None
    written = lora_config_code(16, 32, 0.05, ["q", "v"], "SEQ_2_SEQ_LM")
    back = eval(written, {"LoraConfig": LoraConfig})  # the notebook runs this very text
    want = lora_config(16, 32, 0.05, ["q", "v"], "SEQ_2_SEQ_LM")
    assert back.to_dict() == want.to_dict() and back.r == 16 and back.task_type == "SEQ_2_SEQ_LM"


def test_the_notebook_templates_write_no_rank_of_their_own():
    import re
    from pathlib import Path

    root = Path(__file__).resolve().parents[2] / "playground"
    for path in root.rglob("*.py"):
        if path.name == "lora.py":
            continue
        text = path.read_text(encoding="utf-8")
        assert not re.search(r"LoraConfig\(r=\d", text), path  # every call goes through lora_config(_code)
