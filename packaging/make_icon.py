"""Draw the app icon: a speech bubble holding a next-token probability bar chart.

Writes resources/icons/llm-playground.svg and a 256 px PNG drawn with Pillow from the same
shapes, so the two never drift apart. Run it again only when the design changes:

    python packaging/make_icon.py

The installers' build scripts also ask it for the icon formats of Windows and macOS (generated,
never committed):

    python packaging/make_icon.py --ico packaging/build/llm-playground.ico
    python packaging/make_icon.py --icns packaging/build/llm-playground.icns
"""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
ICONS = ROOT / "resources" / "icons"
SIZE = 256

BACKGROUND = "#2b3a67"
BUBBLE = "#f7f7f2"
TOP_BAR = "#f2a541"   # the most likely next token
OTHER_BAR = "#4fa3a5"
BASELINE = "#2b3a67"

# (x0, y0, x1, y1, radius, colour) in a 256 x 256 canvas.
ROUNDED = [
    (12, 12, 244, 244, 52, BACKGROUND),
    (40, 44, 216, 176, 30, BUBBLE),
]
# The bubble's tail, pointing down-left.
TAIL = [(76, 168), (70, 214), (122, 168)]
BARS = [
    (66, 76, 100, 154, 6, TOP_BAR),
    (111, 110, 145, 154, 6, OTHER_BAR),
    (156, 130, 190, 154, 6, OTHER_BAR),
]
BASELINE_RECT = (58, 154, 198, 160, BASELINE)


def svg_text() -> str:
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{SIZE}" height="{SIZE}" viewBox="0 0 {SIZE} {SIZE}">',
             "  <title>LLM Playground</title>"]
    for x0, y0, x1, y1, r, colour in ROUNDED + BARS:
        parts.append(f'  <rect x="{x0}" y="{y0}" width="{x1 - x0}" height="{y1 - y0}" rx="{r}" fill="{colour}" stroke="none"/>')
    points = " ".join(f"{x},{y}" for x, y in TAIL)
    parts.append(f'  <polygon points="{points}" fill="{BUBBLE}" stroke="none"/>')
    x0, y0, x1, y1, colour = BASELINE_RECT
    parts.append(f'  <rect x="{x0}" y="{y0}" width="{x1 - x0}" height="{y1 - y0}" rx="3" fill="{colour}" stroke="none"/>')
    parts.append("</svg>")
    return "\n".join(parts) + "\n"


def draw_png(size: int = SIZE):
    """The same shapes drawn 4x larger, then scaled down for smooth edges."""
    from PIL import Image, ImageDraw

    k = 4 * size / SIZE
    img = Image.new("RGBA", (4 * size, 4 * size), (0, 0, 0, 0))
    d = ImageDraw.Draw(img)

    def box(x0, y0, x1, y1):
        return [round(x0 * k), round(y0 * k), round(x1 * k) - 1, round(y1 * k) - 1]

    for x0, y0, x1, y1, r, colour in ROUNDED:
        d.rounded_rectangle(box(x0, y0, x1, y1), radius=round(r * k), fill=colour)
    d.polygon([(round(x * k), round(y * k)) for x, y in TAIL], fill=BUBBLE)
    for x0, y0, x1, y1, r, colour in BARS:
        d.rounded_rectangle(box(x0, y0, x1, y1), radius=round(r * k), fill=colour)
    x0, y0, x1, y1, colour = BASELINE_RECT
    d.rounded_rectangle(box(x0, y0, x1, y1), radius=round(3 * k), fill=colour)
    return img.resize((size, size), Image.Resampling.LANCZOS)


def main(argv: list[str]) -> None:
    if len(argv) == 2 and argv[0] in ("--ico", "--icns"):
        # Drawn at 1024 px so every size the format holds is sharp.
        big = draw_png(1024)
        out = Path(argv[1])
        out.parent.mkdir(parents=True, exist_ok=True)
        if argv[0] == "--ico":
            big.save(out, sizes=[(s, s) for s in (16, 24, 32, 48, 64, 128, 256)])
        else:
            big.save(out)
        print(f"wrote {out}")
        return
    ICONS.mkdir(parents=True, exist_ok=True)
    (ICONS / "llm-playground.svg").write_text(svg_text(), encoding="utf-8")
    draw_png().save(ICONS / "llm-playground.png", optimize=True)
    print(f"wrote {ICONS / 'llm-playground.svg'} and {ICONS / 'llm-playground.png'}")


if __name__ == "__main__":
    import sys

    main(sys.argv[1:])
