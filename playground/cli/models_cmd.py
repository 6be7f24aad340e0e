"""`playground models`: list the models the app can load here."""

from __future__ import annotations


def add_parser(sub) -> None:
    p = sub.add_parser("models", help="list the bundled model and local / Hugging Face cache models")
    p.set_defaults(run=run)


def run(args) -> int:
    from playground.core.models.bundled import BUNDLED_NAME, bundled_cache_dir, bundled_is_cached, find_bundled_gguf
    from playground.core.base.errors import PlaygroundError
    from playground.core.models.sources import list_cached_hub_models
    from playground.core.base.settings import Settings

    print("Bundled (decoder-only; --model bundled):")
    try:
        gguf = find_bundled_gguf()
        state = f"cached at {bundled_cache_dir()}" if bundled_is_cached() else "not converted yet (first load converts it)"
        print(f"  {BUNDLED_NAME}  ({gguf.name}; {state})")
    except PlaygroundError as exc:
        print(f"  {BUNDLED_NAME}: {exc}")
    from playground.core.models.encoder import ENCODER_NAME, find_bundled_encoder

    print("Bundled encoder (encoder-only; --model encoder):")
    try:
        print(f"  {ENCODER_NAME}  (BERT, 6 layers, 12 heads; sentence embeddings, no text generation; "
              f"{find_bundled_encoder()})")
    except PlaygroundError as exc:
        print(f"  {ENCODER_NAME}: {exc}")
    recent = Settings().get("recent_folders", []) or []
    print("Local folders used before:")
    for folder in recent:
        print(f"  {folder}")
    if not recent:
        print("  (none)")
    print("Hugging Face cache:")
    cached = list_cached_hub_models()
    for repo in cached:
        print(f"  {repo}")
    if not cached:
        print("  (none)")
    return 0
