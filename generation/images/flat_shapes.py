"""Shapes for the flat technical sketch: the `Sketch` data, geometry helpers and one draw function per category.

A draw function turns a spec into a `Sketch` (filled polygons plus construction lines) in a 100x100 unit
space, y pointing down; `SHAPES` maps each category to its function. `render_flat` (`flat.py`) fits the
sketch to the canvas; the fills and marks painted inside it live in `flat_surface.py`. Drawing a new
category or silhouette changes only this file of the renderer.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from generation.concepts.spec import DesignSpec

Pt = tuple[float, float]
Box = tuple[float, float, float, float]  # x0, y0, x1, y1


# ---------------------------------------------------------------- sketch data and geometry helpers


@dataclass(frozen=True)
class Part:
    """One filled polygon. Parts are painted in order, each outlined, so later parts overlap earlier."""

    points: tuple[Pt, ...]
    tone: float | None = None  # None: base colour + pattern; a number: flat shade (+ lighter, - darker)
    alpha: float = 1.0  # below 1: a translucent overlay (sheer highlight), not part of the mask
    cut: bool = False  # a hole: painted white and removed from the mask
    outline: bool = True


@dataclass(frozen=True)
class Line:
    """A construction line (seam, hem, fold) drawn over the filled parts."""

    points: tuple[Pt, ...]
    dashed: bool = False
    minor: bool = False  # ribs, eyelets, stitching: left out of small images, where they turn to mush


@dataclass
class Sketch:
    parts: list[Part]
    lines: list[Line]
    main: Box  # the main panel, where detail marks go
    focus: Pt  # where a logo or an embroidered motif sits
    handled: frozenset[str] = field(default_factory=frozenset)  # details the shape draws itself


def part(pts: list[Pt], tone: float | None = None, alpha: float = 1.0, cut: bool = False,
         outline: bool = True) -> Part:
    return Part(tuple(pts), tone, alpha, cut, outline)


def stroke(pts: list[Pt], dashed: bool = False, minor: bool = False) -> Line:
    """A construction line; dashed (stitching) lines count as minor."""
    return Line(tuple(pts), dashed, minor or dashed)


def arc(cx: float, cy: float, rx: float, ry: float, a0: float, a1: float, n: int = 24) -> list[Pt]:
    """Points on an ellipse from angle a0 to a1 in degrees (0 = right, 90 = down, 270 = up)."""
    return [(cx + rx * math.cos(math.radians(a)), cy + ry * math.sin(math.radians(a)))
            for a in np.linspace(a0, a1, n)]


def ellipse(cx: float, cy: float, rx: float, ry: float, n: int = 48) -> list[Pt]:
    return arc(cx, cy, rx, ry, 0, 360, n + 1)[:-1]


def rrect(x0: float, y0: float, x1: float, y1: float, r: float) -> list[Pt]:
    """A rounded rectangle as a polygon."""
    return (arc(x0 + r, y0 + r, r, r, 180, 270, 8) + arc(x1 - r, y0 + r, r, r, 270, 360, 8)
            + arc(x1 - r, y1 - r, r, r, 0, 90, 8) + arc(x0 + r, y1 - r, r, r, 90, 180, 8))


def arch(cx: float, base: float, rx: float, ry: float, t: float) -> list[Pt]:
    """An upside-down U band of thickness t (a bag handle)."""
    return arc(cx, base, rx, ry, 180, 360) + arc(cx, base, rx - t, ry - t, 360, 180)


def bezier(a: Pt, c: Pt, b: Pt, n: int = 12) -> list[Pt]:
    """A quadratic Bezier curve from a to b pulled toward c."""
    return [((1 - t) ** 2 * a[0] + 2 * (1 - t) * t * c[0] + t * t * b[0],
             (1 - t) ** 2 * a[1] + 2 * (1 - t) * t * c[1] + t * t * b[1]) for t in np.linspace(0, 1, n)]


def flip(pts: list[Pt]) -> list[Pt]:
    """The left-right mirror image of a separate shape (a left sleeve from a right one)."""
    return [(100 - x, y) for x, y in pts]


def mirror(pts: list[Pt]) -> list[Pt]:
    """The mirror image of a right-half outline, reversed so it continues the same polygon."""
    return flip(pts)[::-1]


def lerp(a: Pt, b: Pt, t: float) -> Pt:
    return a[0] + (b[0] - a[0]) * t, a[1] + (b[1] - a[1]) * t


def rotate(pts: list[Pt], deg: float, c: Pt = (50, 50)) -> list[Pt]:
    s, k = math.sin(math.radians(deg)), math.cos(math.radians(deg))
    return [(c[0] + (x - c[0]) * k - (y - c[1]) * s, c[1] + (x - c[0]) * s + (y - c[1]) * k) for x, y in pts]


def fringe(y0: float, y1: float, x0: float, x1: float) -> list[Part]:
    """Thin horizontal strands stacked from y0 to y1, each running from x0 to x1."""
    return [part([(x0, y - 0.9), (x1, y - 0.7), (x1, y + 0.7), (x0, y + 0.9)])
            for y in np.linspace(y0 + 0.9, y1 - 0.9, max(3, int((y1 - y0) / 3.2)))]


def dashes(pts: list[Pt], on: float, off: float) -> list[list[Pt]]:
    """Split a polyline into dashes `on` long separated by `off` gaps."""
    out, left, drawing, cur = [], on, True, [pts[0]]  # left: distance until the next dash/gap switch
    for a, b in zip(pts, pts[1:]):
        seg, pos = math.dist(a, b), 0.0
        while seg - pos > left:
            pos += left
            p = lerp(a, b, pos / seg)
            if drawing:
                out.append(cur + [p])
            cur, drawing, left = [p], not drawing, off if drawing else on
        left -= seg - pos
        cur.append(b)
    if drawing and len(cur) > 1:
        out.append(cur)
    return out


# ---------------------------------------------------------------- one draw function per category


def _tshirt(spec: DesignSpec) -> Sketch:
    w = {"oversized": 29, "slim": 21}.get(spec.silhouette or "", 25)  # half the body width
    hem = 70 if spec.silhouette == "cropped" else 88
    drop = 5 if spec.silhouette == "oversized" else 0  # dropped shoulder
    shoulder, armpit = (47 + w, 18 + drop), (50 + w, 36 + drop)
    right = [(59, 13), shoulder, armpit, (50 + w, hem)]
    body = right + mirror(right) + arc(50, 13, 9, 7, 180, 0)[1:-1]
    sleeve = [shoulder, (65 + w, 33 + drop), (58 + w, 43 + drop), armpit]
    lines = [stroke(arc(50, 13, 11.5, 10, 8, 172)), stroke([(51 - w, hem - 3), (49 + w, hem - 3)], dashed=True)]
    for s in (sleeve, flip(sleeve)):
        lines.append(stroke([lerp(s[1], s[0], 0.16), lerp(s[2], s[3], 0.16)], dashed=True))
    parts = [part(sleeve), part(flip(sleeve)), part(body)]
    return Sketch(parts, lines, (50 - w, 24, 50 + w, hem), (50 + w * 0.45, 32))


def _hoodie(spec: DesignSpec) -> Sketch:
    w = {"oversized": 31, "slim": 23}.get(spec.silhouette or "", 27)
    hem = 74 if spec.silhouette == "cropped" else 90
    shoulder, armpit, cuff_out, cuff_in = (48 + w, 24), (50 + w, 40), (63 + w, 84), (54 + w, 86)
    right = [(60, 20), shoulder, armpit, (50 + w, hem)]
    sleeve = [shoulder, cuff_out, cuff_in, armpit]
    cuff = [lerp(shoulder, cuff_out, 0.9), cuff_out, cuff_in, lerp(armpit, cuff_in, 0.9)]
    pocket = [(39, hem - 31), (61, hem - 31), (68, hem - 20), (68, hem - 9), (32, hem - 9), (32, hem - 20)]
    parts = [part(ellipse(50, 17, 15.5, 15)), part(sleeve), part(flip(sleeve)), part(cuff), part(flip(cuff)),
             part(right + mirror(right)), part(rrect(51 - w, hem - 7, 49 + w, hem, 1)), part(pocket),
             part(ellipse(50, 17, 8.5, 11), tone=-0.2)]  # hood, sleeves, cuffs, body, hem band, pocket, opening
    lines = [stroke(arc(50, 17, 11, 13.5, 200, 340)), stroke([(47, 27), (46, 42)]), stroke([(53, 27), (54, 43)])]
    lines += [stroke([(51 - w + k, hem - 6), (51 - w + k, hem - 1)], minor=True) for k in range(3, 2 * w - 3, 4)]
    return Sketch(parts, lines, (50 - w, 30, 50 + w, hem - 8), (50 + w * 0.45, 36),
                  frozenset({"drawstring", "pocket"}))


def _dress(spec: DesignSpec) -> Sketch:
    hw = {"a-line": 31, "slim": 17, "oversized": 30}.get(spec.silhouette or "", 25)  # half hem width
    hem = 97 if spec.silhouette == "maxi" else 84
    right = [(62, 6), (60, 15), (65, 23), (61, 40), (50 + hw, hem - 4)]
    body = [(38, 6)] + arc(50, 6, 8, 12, 180, 0)[1:-1] + right + arc(50, hem - 4, hw, 4, 0, 180) + mirror(right)
    lines = [stroke(arc(50, 36, 11.5, 4, 20, 160)), stroke(arc(50, 6, 10, 14, 170, 10))]
    lines += [stroke([(50 + 9 * k, 43), (50 + hw * k * 1.1, hem - 1)]) for k in (-0.55, -0.2, 0.2, 0.55)]
    return Sketch([part(body)], lines, (50 - hw * 0.7, 20, 50 + hw * 0.7, hem - 4), (56, 28))


def _leggings(spec: DesignSpec) -> Sketch:
    top = 0 if spec.silhouette == "high-waist" else 6
    ankle = 76 if spec.silhouette == "cropped" else 97
    out, inn = (68, 52) if spec.silhouette == "flared" else (61, 53.5)  # ankle x, outer and inner
    right = [(68, top), (69.5, 22), (67, 48), (63.5, 70), (out, ankle), (inn, ankle), (53, 70), (51.5, 44), (50, 36)]
    band = [(32, top), (68, top), (68.7, 13), (31.3, 13)]
    lines = [stroke([(50, 13), (50, 36)])]
    lines += [stroke(s, dashed=True) for s in ([(out - 0.5, ankle - 3), (inn + 0.3, ankle - 3)],
                                               flip([(out - 0.5, ankle - 3), (inn + 0.3, ankle - 3)]))]
    return Sketch([part(right + mirror(right[:-1])), part(band)], lines, (34, 16, 66, 60), (60, 24))


def _tights(spec: DesignSpec) -> Sketch:
    right = ([(65, 4), (67, 24), (64.5, 50), (61.5, 72), (61, 87)] + arc(57, 91.5, 4.5, 5.5, 0, 180)[1:]
             + [(53, 72), (52, 46), (50, 34)])
    sheer = 0.4 if spec.silhouette == "sheer" else 0.22  # strength of the light streak down each leg
    streak = [(58, 38), (59.8, 38), (57.8, 86), (57, 86)]
    parts = [part(right + mirror(right[:-1])), part(streak, tone=0.55, alpha=sheer, outline=False),
             part(flip(streak), tone=0.55, alpha=sheer, outline=False), part(rrect(35, 3, 65, 10, 1), tone=-0.1)]
    lines = [stroke(arc(50, 35, 15.5, 8, 200, 340)), stroke([(50, 10), (50, 34)]),
             stroke(arc(57, 91, 4, 3, 200, 340)), stroke(arc(43, 91, 4, 3, 200, 340))]
    return Sketch(parts, lines, (38, 12, 62, 40), (58, 22))


def _sneakers(spec: DesignSpec) -> Sketch:
    th = 13 if spec.silhouette == "chunky" else 8  # sole thickness
    lo = 8 if spec.silhouette == "low-top" else 0  # how much lower the collar sits
    upper = ([(8, 72)] + bezier((8, 72), (4, 50), (12, 36 + lo))[1:]
             + bezier((12, 36 + lo), (24, 32 + lo), (30, 42 + lo))[1:]
             + bezier((30, 42 + lo), (37, 45 + lo), (42, 36 + lo))[1:] + [(44, 26 + lo), (52, 25 + lo)]
             + bezier((55, 31 + lo), (68, 40 + lo / 2), (80, 50)) + bezier((80, 50), (95, 52), (96, 66))[1:]
             + [(96, 72)])
    eyestay = bezier((45, 37 + lo), (60, 47 + lo / 2), (73, 55))
    laces = [stroke([lerp((55, 31 + lo), (80, 50), t), eyestay[round(t * 11)]]) for t in (0.1, 0.35, 0.6)]
    lines = [stroke(eyestay), stroke(bezier((77, 72), (77, 57), (93, 56))), stroke(bezier((7, 52), (22, 50), (27, 72))),
             stroke(bezier((27, 64), (48, 50), (70, 62))), stroke([(6, 70 + th / 2), (95, 70 + th / 2)], dashed=True),
             *laces]  # eyestay, toe cap, heel counter, side panel, midsole, laces
    parts = [part(upper), part(rrect(4, 70, 97, 70 + th, th / 2.2), tone=0.0)]
    return Sketch(parts, lines, (14, 50, 72, 68), (40, 58))


def _cap(spec: DesignSpec) -> Sketch:
    tip = (103, 63) if spec.silhouette == "flat-brim" else (101, 70)
    crown = arc(44, 66, 34, 46, 180, 360, 40) + arc(44, 66, 34, 4, 0, 180, 16)[1:-1]
    brim = bezier((52, 65), (82, 54), tip) + bezier(tip, (84, 78), (54, 72))[1:]
    lines = [stroke(arc(44, 66, 16, 46, 272, 358)), stroke(arc(44, 66, 12, 46, 182, 268)),
             stroke([(44, 20), (44, 66)]), stroke(bezier((58, 65), (82, 58), (tip[0] - 4, tip[1] + 1)), dashed=True)]
    lines += [stroke(ellipse(x, y, 1.3, 1.3, 12), minor=True) for x, y in ((26, 38), (62, 37))]  # eyelets
    return Sketch([part(crown), part(brim), part(ellipse(44, 20.5, 3.5, 2.2))], lines, (46, 30, 60, 60), (52, 46))


def _tote(spec: DesignSpec) -> Sketch:
    if spec.silhouette == "slouchy":
        body = [(20, 38), (80, 38)] + arc(74, 84, 12, 10, 345, 450)[1:] + arc(26, 84, 12, 10, 90, 195)[:-1]
    else:
        body = rrect(18, 38, 82, 95, 2)
    parts = [part(arch(50, 39, 17, 33, 3.6)), part(body), part(arch(50, 47, 19, 34, 3.6))]  # back handle first
    lines = [stroke([(20, 42), (80, 42)], dashed=True)]
    for x in (31, 65.4):  # box-and-cross stitching where the front handle is sewn on
        lines.append(stroke([(x, 43), (x + 3.6, 43), (x + 3.6, 47), (x, 47), (x, 43), (x + 3.6, 47)], minor=True))
    return Sketch(parts, lines, (22, 48, 78, 92), (50, 66))


def _scarf(spec: DesignSpec) -> Sketch:
    x0, y0, x1, y1 = {"square": (12, 12, 88, 88), "maxi": (6, 40, 94, 60)}.get(spec.silhouette or "", (9, 34, 91, 66))
    parts = [part(rrect(x0, y0, x1, y1, 1))] + fringe(y0, y1, x0 + 0.5, x0 - 7) + fringe(y0, y1, x1 - 0.5, x1 + 7)
    lines = [stroke([(x0 + 1, y + 2 * s), (x1 - 1, y + 2 * s)], dashed=True) for y, s in ((y0, 1), (y1, -1))]
    return Sketch(parts, lines, (x0 + 4, y0 + 2, x1 - 4, y1 - 2), (x1 - 14, (y0 + y1) / 2), frozenset({"tassels"}))


def _socks(spec: DesignSpec) -> Sketch:
    top = {"ankle": 36, "knee-high": -30}.get(spec.silhouette or "", 6)
    body = ([(30, top), (54, top), (54, 50), (64, 56), (80, 58)] + arc(84, 70, 11, 12, 270, 450)
            + [(42, 82)] + arc(40, 68, 13, 14, 90, 180) + [(29, 50)])
    cuff = [(30, top), (54, top), (54, top + 9), (30, top + 9)]
    lines = [stroke([(x, top + 1), (x, top + 8)], minor=True) for x in range(33, 53, 3)]
    lines += [stroke(arc(43, 68, 9, 12, 100, 200)), stroke(arc(81, 70, 6, 12, 285, 435))]  # heel, toe
    return Sketch([part(body), part(cuff)], lines, (31, top + 11, 53, 56), (42, (top + 50) / 2 + 4))


def _cleaning_cloth(spec: DesignSpec) -> Sketch:
    """A square cloth, turned a little, with its bottom-right corner folded over."""
    scour = "scouring-side" in spec.details
    cloth = (arc(21, 21, 5, 5, 180, 270, 6) + arc(79, 21, 5, 5, 270, 360, 6) + [(84, 62), (62, 84)]
             + arc(21, 79, 5, 5, 90, 180, 6))
    flap = [(84, 62), (62, 84), (66, 66)]
    lines = [stroke(rotate([(20, 20), (80, 20), (80, 60), (60, 80), (20, 80), (20, 20)], -8), dashed=True)]
    if scour:  # the folded corner shows the darker, cross-hatched scouring side
        lines += [stroke(rotate([lerp(flap[0], flap[1], t), lerp(flap[2], flap[1], t)], -8)) for t in (0.3, 0.6)]
    parts = [part(rotate(cloth, -8)), part(rotate(flap, -8), tone=-0.3 if scour else 0.2)]
    return Sketch(parts, lines, (24, 24, 70, 70), (34, 34), frozenset({"scouring-side"}))


def _pillow(lo: float, hi: float, bow: float) -> list[Pt]:
    """A square from lo to hi whose sides bow inward by `bow`: a stuffed cushion."""
    m = (lo + hi) / 2
    return (bezier((lo, lo), (m, lo + bow), (hi, lo))[:-1] + bezier((hi, lo), (hi - bow, m), (hi, hi))[:-1]
            + bezier((hi, hi), (m, hi - bow), (lo, hi))[:-1] + bezier((lo, hi), (lo + bow, m), (lo, lo))[:-1])


def _cushion(spec: DesignSpec) -> Sketch:
    lines = [stroke(_pillow(16, 84, 9) + [(16, 16)], dashed=True)]
    lines += [stroke([c, lerp(c, (50, 50), 0.18)]) for c in ((12, 12), (88, 12), (88, 88), (12, 88))]
    return Sketch([part(_pillow(12, 88, 10))], lines, (24, 24, 76, 76), (50, 50))


def _throw_blanket(spec: DesignSpec) -> Sketch:
    """A folded stack (three layer edges showing) with the top corner turned back."""
    parts = [part(rrect(10, 30, 90, 82, 3)), part(rrect(9, 26, 91, 78, 3)), part(rrect(8, 20, 92, 72, 3)),
             part([(70, 20), (92, 20), (92, 42)], tone=-0.2)]
    if spec.silhouette == "fringed-edge":
        parts += fringe(20, 72, 8.5, 1.5) + fringe(20, 72, 91.5, 98.5)
    lines = [stroke(s, dashed=True) for s in ([(12, 24), (66, 24)], [(12, 68), (88, 68)], [(12, 24), (12, 68)])]
    return Sketch(parts, lines, (14, 28, 86, 66), (30, 40))


def _phone_case(spec: DesignSpec) -> Sketch:
    bump = 2.5 if spec.silhouette == "rugged" else 0  # thicker bumper edges
    parts = [part(rrect(72, 20, 73.8 + bump / 2, 30, 0.8)), part(rrect(72, 34, 73.8 + bump / 2, 42, 0.8)),
             part(rrect(28 - bump, 4 - bump, 72 + bump, 96 + bump, 9 + bump)),
             part(rrect(33, 9, 51, 28, 5), cut=True)]  # side buttons, shell, camera cut-out
    lines = [stroke(rrect(30, 6, 70, 94, 7) + [(30, 13)])]
    lines += [stroke(ellipse(x, y, 3, 3, 16) + [(x + 3, y)]) for x, y in ((38, 14.5), (46, 14.5), (38, 22.5))]
    return Sketch(parts, lines, (32, 32, 68, 90), (50, 60))


def _tumbler(spec: DesignSpec) -> Sketch:
    t, b = {"tall": (16, 97), "compact": (42, 92)}.get(spec.silhouette or "", (28, 94))  # body top, bottom
    body = [(32, t), (68, t), (65, b - 3)] + arc(50, b - 3, 15, 3, 0, 180)[1:-1] + [(35, b - 3)]
    parts = [part(body), part(rrect(30.5, t - 11, 69.5, t + 1, 2), tone=0.0),
             part(rrect(44, t - 14, 56, t - 10, 1), tone=0.0)]  # body, lid, sip spout
    if "handle" in spec.details:
        m = (t + b) / 2
        parts.insert(0, part(arc(66, m, 13, 16, 270, 450) + arc(66, m, 8, 11, 450, 270)))
    lines = [stroke(arc(50, t + 6, 17.8, 2.5, 10, 170)), stroke(arc(50, b - 11, 15.8, 2.5, 10, 170))]
    return Sketch(parts, lines, (36, t + 10, 64, b - 12), (50, (t + b) / 2), frozenset({"handle"}))


SHAPES: dict[str, Callable[[DesignSpec], Sketch]] = {
    "t-shirt": _tshirt, "dress": _dress, "hoodie": _hoodie, "leggings": _leggings, "sneakers": _sneakers,
    "tote-bag": _tote, "cap": _cap, "scarf": _scarf, "socks": _socks, "tights": _tights,
    "cleaning-cloth": _cleaning_cloth, "cushion-cover": _cushion, "throw-blanket": _throw_blanket,
    "phone-case": _phone_case, "tumbler": _tumbler,
}
