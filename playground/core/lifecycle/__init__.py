"""The lifecycle lab: precision (quantization), forgetting and scaling laws. No Qt here."""
