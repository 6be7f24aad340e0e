"""Pure Python + torch/transformers/peft. Nothing here imports Qt."""
