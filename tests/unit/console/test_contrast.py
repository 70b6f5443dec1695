"""The console's colours against WCAG 2.1 AA, read from console/app.css itself: text 4.5:1 on whatever it sits
on (1.4.3), and the edges that make a control, a focus ring or a current item visible 3:1 (1.4.11). Relative
luminance and contrast ratio as WCAG defines them (https://www.w3.org/TR/WCAG21/#dfn-relative-luminance)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

CSS = Path(__file__).resolve().parents[3] / "console" / "app.css"
TEXT, UI = 4.5, 3.0
Colour = tuple[float, float, float, float]  # r, g, b in 0..255, alpha in 0..1

# Chromium's own placeholder colour (`darkgray`), which a page that sets none shows in its inputs.
BROWSER_PLACEHOLDER = "#a9a9a9"
# Edges that identify a control or its state (the others, around cards and cells, are decoration).
UI_EDGE = re.compile(
    r"button|\.button|input|textarea|select|aria-invalid|aria-current|aria-selected|\.slot|\.today|\.over"
)
HEADER = ".top"


def parse(css: str) -> list[tuple[str, dict[str, str]]]:
    """(selector, declarations) of every rule, those inside @media included."""
    css = re.sub(r"/\*.*?\*/", "", css, flags=re.S)
    rules = []
    for selectors, body in re.findall(r"([^{}]+)\{([^{}]*)\}", css):
        declarations = dict(
            (name.strip(), value.strip())
            for name, _, value in (d.partition(":") for d in body.split(";"))
            if value.strip()
        )
        for selector in selectors.split(","):
            rules.append((" ".join(selector.split()), declarations))
    return rules


RULES = parse(CSS.read_text(encoding="utf-8"))
VARIABLES = {name: value for selector, declared in RULES if selector == ":root" for name, value in declared.items()}


def colour(value: str) -> Colour | None:
    """The first colour in a declaration (var() resolved), None when it names none."""
    value = re.sub(r"var\((--[\w-]+)\)", lambda m: VARIABLES[m.group(1)], value)
    if "transparent" in value:
        return (0.0, 0.0, 0.0, 0.0)
    found = re.search(r"#([0-9a-fA-F]{6}|[0-9a-fA-F]{3})\b", value)
    if found:
        digits = found.group(1) if len(found.group(1)) == 6 else "".join(c * 2 for c in found.group(1))
        return (int(digits[0:2], 16), int(digits[2:4], 16), int(digits[4:6], 16), 1.0)
    found = re.search(r"rgba?\(([^)]*)\)", value)
    if found:
        parts = [float(p) for p in re.split(r"[\s,/]+", found.group(1).strip())]
        return (parts[0], parts[1], parts[2], parts[3] if len(parts) > 3 else 1.0)
    return None


def over(top: Colour, below: Colour) -> Colour:
    a = top[3]
    return (top[0] * a + below[0] * (1 - a), top[1] * a + below[1] * (1 - a), top[2] * a + below[2] * (1 - a), 1.0)


def luminance(c: Colour) -> float:
    def channel(v: float) -> float:
        v /= 255
        return v / 12.92 if v <= 0.04045 else ((v + 0.055) / 1.055) ** 2.4

    return 0.2126 * channel(c[0]) + 0.7152 * channel(c[1]) + 0.0722 * channel(c[2])


def ratio(a: Colour, b: Colour) -> float:
    light, dark = sorted((luminance(a), luminance(b)), reverse=True)
    return (light + 0.05) / (dark + 0.05)


def declared(selector: str, prop: str) -> Colour | None:
    values = [d[prop] for s, d in RULES if s == selector and prop in d]
    return colour(values[-1]) if values else None


def background(declarations: dict[str, str]) -> Colour | None:
    for prop in ("background-color", "background"):
        if prop in declarations and colour(declarations[prop]) is not None:
            return colour(declarations[prop])
    return None


PAGE = declared("body", "background")
CARD = colour("var(--card)")
HEADER_BG = declared(HEADER, "background")
assert PAGE and CARD and HEADER_BG, "body, --card and .top name their backgrounds"
STATUS = re.compile(r"\.(status|health)-")


def surfaces() -> dict[str, Colour]:
    """Every light, solid background text of no colour of its own may land on (status chips carry their ink)."""
    found = {"body": PAGE, "--card": CARD, "input": (255.0, 255.0, 255.0, 1.0)}
    for selector, declarations in RULES:
        fill = background(declarations)
        if fill and fill[3] == 1 and luminance(fill) > 0.5 and not STATUS.search(selector) and selector != ":root":
            found[selector] = fill
    return found


def in_header(selector: str) -> bool:
    return selector.startswith(HEADER) or selector == ".tz"


def test_the_stylesheet_is_read() -> None:
    assert len(RULES) > 50 and "--ink" in VARIABLES and len(surfaces()) > 5


def test_text_on_its_own_background_is_aa() -> None:
    failing = []
    for selector, declarations in RULES:
        ink, fill = declarations.get("color"), background(declarations)
        if ink and fill and fill[3] == 1 and colour(ink):
            got = ratio(colour(ink), fill)  # type: ignore[arg-type]
            if got < TEXT:
                failing.append(f"{selector}: {got:.2f}")
    assert failing == []


def test_text_on_the_surfaces_it_may_land_on_is_aa() -> None:
    """A rule that colours text but not its background: against the page, cards, inputs and each tinted panel
    (the header's text against the header)."""
    failing = []
    for selector, declarations in RULES:
        ink = colour(declarations.get("color", ""))
        if ink is None or background(declarations) not in (None, (0.0, 0.0, 0.0, 0.0)) or STATUS.search(selector):
            continue
        under = {"header": HEADER_BG, ".tz": declared(".tz", "background")} if in_header(selector) else surfaces()
        failing += [
            f"{selector} on {name}: {ratio(ink, fill):.2f}"
            for name, fill in under.items()
            if fill and ratio(ink, fill) < TEXT
        ]
    assert failing == []


@pytest.mark.parametrize(
    "status", sorted({m.group(1) for m in (re.match(r"--s-(\w+)-ink$", n) for n in VARIABLES) if m})
)
def test_each_status_chip_and_its_badge_are_aa(status: str) -> None:
    ink, fill = colour(VARIABLES[f"--s-{status}-ink"]), colour(VARIABLES[f"--s-{status}"])
    assert ink and fill
    assert ratio(ink, fill) >= TEXT
    # On the calendar a chip's badge is a translucent white over the chip's own colour.
    badge = declared(".post .badge", "background")
    assert badge and ratio(ink, over(badge, fill)) >= TEXT


def test_the_edges_of_controls_and_current_items_stand_out_3_to_1() -> None:
    failing = []
    for selector, declarations in RULES:
        if not UI_EDGE.search(selector):
            continue
        for prop in ("border", "border-color", "outline", "box-shadow"):
            edge = colour(declarations.get(prop, ""))
            if edge is None or edge[3] == 0:
                continue
            under = {"header": HEADER_BG} if in_header(selector) else {"body": PAGE, "--card": CARD}
            failing += [
                f"{selector} {prop} on {name}: {ratio(edge, fill):.2f}"
                for name, fill in under.items()
                if ratio(edge, fill) < UI
            ]
    assert failing == []


def test_the_focus_ring_shows_on_the_page_and_in_the_header() -> None:
    ring = declared(":focus-visible", "outline")
    header_ring = declared(f"{HEADER} :focus-visible", "outline-color") or ring
    assert ring and header_ring
    assert min(ratio(ring, PAGE), ratio(ring, CARD)) >= UI
    assert ratio(header_ring, HEADER_BG) >= UI


def test_placeholders_are_readable() -> None:
    """The composer's network tabs show the main text as the placeholder of each variant."""
    shown = declared("::placeholder", "color") or colour(BROWSER_PLACEHOLDER)
    assert shown and ratio(shown, (255.0, 255.0, 255.0, 1.0)) >= TEXT
