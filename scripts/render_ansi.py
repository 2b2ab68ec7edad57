#!/usr/bin/python3
"""Render a terminal capture with ANSI colours (`tmux capture-pane -e -p`) to a PNG.

    render_ansi.py CAPTURE.txt OUT.png

Used by scripts/screenshot.sh for README's picture of the live view. Understands the SGR codes a
ratatui program emits through tmux: reset, bold, dim, italic, underline, reverse, the 16 colours,
the 256-colour palette and 24-bit colours. Needs python3-pil and the DejaVu Sans Mono font.
"""
import re
import sys

from PIL import Image, ImageDraw, ImageFont

FONT = "/usr/share/fonts/truetype/dejavu/DejaVuSansMono.ttf"
FONT_BOLD = "/usr/share/fonts/truetype/dejavu/DejaVuSansMono-Bold.ttf"
SIZE = 15
FG, BG = (204, 204, 204), (24, 24, 27)
BASE16 = [
    (0, 0, 0), (205, 49, 49), (13, 188, 121), (229, 229, 16),
    (36, 114, 200), (188, 63, 188), (17, 168, 205), (229, 229, 229),
    (102, 102, 102), (241, 76, 76), (35, 209, 139), (245, 245, 67),
    (59, 142, 234), (214, 112, 214), (41, 184, 219), (255, 255, 255),
]


def palette(n):
    """The xterm 256-colour palette."""
    if n < 16:
        return BASE16[n]
    if n < 232:
        n -= 16
        steps = [0, 95, 135, 175, 215, 255]
        return (steps[n // 36], steps[(n // 6) % 6], steps[n % 6])
    v = 8 + (n - 232) * 10
    return (v, v, v)


class Style:
    def __init__(self):
        self.reset()

    def reset(self):
        self.fg = self.bg = None
        self.bold = self.reverse = self.underline = self.dim = False

    def apply(self, params):
        codes = [int(p) if p else 0 for p in params.split(";")] if params else [0]
        i = 0
        while i < len(codes):
            c = codes[i]
            if c == 0:
                self.reset()
            elif c == 1:
                self.bold = True
            elif c == 2:
                self.dim = True
            elif c == 4:
                self.underline = True
            elif c == 7:
                self.reverse = True
            elif c == 22:
                self.bold = self.dim = False
            elif c == 24:
                self.underline = False
            elif c == 27:
                self.reverse = False
            elif 30 <= c <= 37:
                self.fg = BASE16[c - 30]
            elif 90 <= c <= 97:
                self.fg = BASE16[c - 90 + 8]
            elif 40 <= c <= 47:
                self.bg = BASE16[c - 40]
            elif 100 <= c <= 107:
                self.bg = BASE16[c - 100 + 8]
            elif c == 39:
                self.fg = None
            elif c == 49:
                self.bg = None
            elif c in (38, 48) and i + 1 < len(codes):
                if codes[i + 1] == 5 and i + 2 < len(codes):
                    colour = palette(codes[i + 2])
                    i += 2
                elif codes[i + 1] == 2 and i + 4 < len(codes):
                    colour = tuple(codes[i + 2:i + 5])
                    i += 4
                else:
                    colour = None
                if c == 38:
                    self.fg = colour
                else:
                    self.bg = colour
            i += 1

    def colours(self):
        fg, bg = self.fg or FG, self.bg or BG
        if self.reverse:
            fg, bg = bg, fg
        if self.dim:
            fg = tuple(v * 2 // 3 for v in fg)
        return fg, bg


def cells(text):
    """Each line as a list of (char, fg, bg, bold, underline)."""
    style = Style()
    lines = []
    for raw in text.split("\n"):
        row = []
        for part in re.split(r"(\x1b\[[0-9;]*m)", raw):
            if part.startswith("\x1b["):
                style.apply(part[2:-1])
                continue
            for ch in part:
                fg, bg = style.colours()
                row.append((ch, fg, bg, style.bold, style.underline))
        lines.append(row)
    while lines and not lines[-1]:
        lines.pop()
    return lines


def render(lines, out):
    font, bold = ImageFont.truetype(FONT, SIZE), ImageFont.truetype(FONT_BOLD, SIZE)
    width = round(font.getlength("M"))
    ascent, descent = font.getmetrics()
    height = ascent + descent + 2
    cols = max(len(r) for r in lines)
    pad = 12
    img = Image.new("RGB", (cols * width + 2 * pad, len(lines) * height + 2 * pad), BG)
    draw = ImageDraw.Draw(img)
    for y, row in enumerate(lines):
        for x, (ch, fg, bg, is_bold, underline) in enumerate(row):
            left, top = pad + x * width, pad + y * height
            if bg != BG:
                draw.rectangle([left, top, left + width - 1, top + height - 1], fill=bg)
            if ch != " ":
                draw.text((left, top + 1), ch, font=bold if is_bold else font, fill=fg)
            if underline:
                draw.line([left, top + height - 2, left + width, top + height - 2], fill=fg)
    img.save(out, optimize=True)


def main():
    if len(sys.argv) != 3:
        sys.exit("usage: render_ansi.py CAPTURE.txt OUT.png")
    with open(sys.argv[1], encoding="utf-8", errors="replace") as f:
        render(cells(f.read()), sys.argv[2])


if __name__ == "__main__":
    main()
