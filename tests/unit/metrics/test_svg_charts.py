"""Hand-written SVG charts."""
from __future__ import annotations

import xml.etree.ElementTree as ET

from chalicelib.metrics.svg_charts import Series, bar_chart, duration, hbar_chart, line_chart, nice_step

SVG = "{http://www.w3.org/2000/svg}"


def test_axis_steps_are_round_numbers():
    assert [nice_step(span) for span in (4, 10, 37, 1000, 0.3)] == [1, 2.5, 10, 250, 0.1]


def test_durations_read_like_a_person_would_say_them():
    assert [duration(s) for s in (42, 60, 125, 3600, 5430)] == [
        "42 s", "1 min", "2 min 05 s", "1 h", "1 h 30 min"]


def test_charts_are_well_formed_svg():
    for svg in (line_chart("Followers", ["01", "02", "03"], [Series("Mar", [1, None, 3], "#000")]),
                bar_chart("Engagements", ["01", "02"], [4, None], "#000"),
                hbar_chart("Top", [("A post", 10), ("Another", 4)], "#000"),
                line_chart("Nothing", ["01"], [Series("Mar", [None], "#000")])):
        root = ET.fromstring(svg)
        assert root.tag == SVG + "svg" and root.find(SVG + "title") is not None


def test_a_bar_is_absent_where_the_value_is_unknown():
    root = ET.fromstring(bar_chart("Engagements", ["01", "02", "03"], [4, None, 0], "#000"))
    assert len(root.findall(SVG + "rect")) == 2
