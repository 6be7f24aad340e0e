"""`playground attention`: draw one layer's attention heatmap (and write its weights as JSON)."""

from __future__ import annotations

import json
import sys
from pathlib import Path

from playground.cli.common import add_model_options, load_from_args

MAPS = ("auto", "self", "encoder", "decoder", "cross")


def add_parser(sub) -> None:
    p = sub.add_parser("attention", help="draw an attention heatmap for a text (and write the weights as JSON)")
    p.add_argument("--prompt", required=True, help="the text ('-' reads standard input)")
    p.add_argument("--layer", type=int, default=-1, help="layer, counted from 0 (negative counts from the end; "
                                                         "default: the last)")
    p.add_argument("--head", type=int, default=None, help="head, counted from 0 (default: the mean of all heads)")
    p.add_argument("--out", required=True, help="the PNG file to write")
    p.add_argument("--json", dest="json_path", default=None,
                   help="also write the layer's weights (heads × queries × keys) and token labels here")
    p.add_argument("--map", default="auto", choices=MAPS,
                   help="which attention of an encoder-decoder model (default: encoder; 'cross' for cross-attention)")
    p.add_argument("--target", default=None, help="encoder-decoder: the decoder's text (default: the model's own)")
    p.add_argument("--memory-limit-mib", type=int, default=512,
                   help="refuse (or downsample) attention weights above this many MiB (default 512)")
    p.add_argument("--downsample", action="store_true", help="past the limit, pool groups of tokens instead of refusing")
    add_model_options(p)
    p.set_defaults(run=run)


def _pick(result, args):
    from playground.core.base.errors import InputError

    name = args.map
    if name == "auto":
        name = next(iter(result.maps))
    if name not in result.maps:
        raise InputError(f"This model has no '{name}' attention.", f"Choose one of: {', '.join(result.maps)}.")
    amap = result.maps[name]
    layer = args.layer + amap.num_layers if args.layer < 0 else args.layer
    if not 0 <= layer < amap.num_layers:
        raise InputError(f"Layer {args.layer} does not exist: this model has layers 0 to {amap.num_layers - 1}.")
    if args.head is not None and not 0 <= args.head < amap.num_heads:
        raise InputError(f"Head {args.head} does not exist: each layer has heads 0 to {amap.num_heads - 1}.")
    return name, amap, layer


def draw_heatmap(path: Path, matrix, row_labels, col_labels, title: str, row_name: str, col_name: str) -> None:
    """Write a labelled heatmap PNG (matplotlib without any GUI backend)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.colors import PowerNorm
    from matplotlib.figure import Figure

    n = max(matrix.shape)
    side = min(16.0, max(6.0, 0.28 * n + 2.5))
    fig = Figure(figsize=(side + 1.2, side), dpi=110, layout="constrained")
    FigureCanvasAgg(fig)
    ax = fig.add_subplot(111)
    image = ax.imshow(matrix, cmap="Blues", norm=PowerNorm(0.5, vmin=0, vmax=max(float(matrix.max()), 1e-6)),
                      aspect="auto", interpolation="nearest")
    fig.colorbar(image, ax=ax, fraction=0.04, pad=0.02).set_label("attention weight")
    step = max(1, n // 60)
    fs = 8 if n <= 48 else 6
    ax.set_xticks(range(0, matrix.shape[1], step), [col_labels[i] for i in range(0, matrix.shape[1], step)],
                  rotation=90, fontsize=fs)
    ax.set_yticks(range(0, matrix.shape[0], step), [row_labels[i] for i in range(0, matrix.shape[0], step)], fontsize=fs)
    ax.set_xlabel(col_name)
    ax.set_ylabel(row_name)
    ax.set_title(title, fontsize=10)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(str(path))


def run(args) -> int:
    import numpy as np

    from playground.core.attention import extract_attention
    from playground.core.base.errors import InputError
    from playground.core.base.paths import atomic_write_text

    text = sys.stdin.read() if args.prompt == "-" else args.prompt
    if not text.strip():
        raise InputError("The prompt is empty.", "Pass some text with --prompt.")
    if args.memory_limit_mib <= 0:
        raise InputError("--memory-limit-mib must be above zero.")
    loaded = load_from_args(args)
    result = extract_attention(loaded, text, target=args.target, limit_bytes=args.memory_limit_mib * 2**20,
                               over_limit="downsample" if args.downsample else "refuse", keep_hidden_states=False)
    name, amap, layer = _pick(result, args)
    head = "mean" if args.head is None else args.head
    matrix = result.matrix(name, layer, head)
    head_text = "mean of heads" if head == "mean" else f"head {head}"
    title = f"{loaded.info.name} · {amap.title} · layer {layer} · {head_text}"
    rows, cols = ("decoder token (query)", "encoder token (key)") if name == "cross" else \
                 ("attending token (query)", "attended-to token (key)")
    draw_heatmap(Path(args.out), matrix, amap.query_labels, amap.key_labels, title, rows, cols)
    print(f"wrote {args.out}: {title} ({matrix.shape[0]}×{matrix.shape[1]})")
    if args.json_path:
        weights = amap.layer(layer)
        payload = {
            "model": loaded.info.name, "text": text, "map": name, "layer": layer, "head": head,
            "num_heads": amap.num_heads, "shape": list(weights.shape),
            "query_tokens": amap.query_labels, "key_tokens": amap.key_labels,
            "query_spans": [list(s) for s in amap.query_spans], "key_spans": [list(s) for s in amap.key_spans],
            "downsampled": amap.downsampled,
            "weights": np.round(weights.astype(np.float64), 7).tolist(),
        }
        atomic_write_text(Path(args.json_path), json.dumps(payload, ensure_ascii=False))
        print(f"wrote {args.json_path}: weights of layer {layer}, {amap.num_heads} heads")
    if result.plan.downsampled:
        print(f"note: {result.plan.describe()}", file=sys.stderr)
    return 0
