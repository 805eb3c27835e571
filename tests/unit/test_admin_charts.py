"""The console's SVG charts and its escaping helpers."""

from __future__ import annotations

import re

from imagechat.web.admin.charts import bar_chart, human
from imagechat.web.admin.html import button_form, esc, link


def test_human_numbers() -> None:
    assert [human(v) for v in (0, 7, 763.5, 1500, 2_500_000, 3e9)] == [
        "0",
        "7",
        "764",
        "1.5k",
        "2.5M",
        "3.0G",
    ]


def test_a_bar_per_day_scaled_to_the_highest() -> None:
    svg = bar_chart("Comments", ["2026-11-01", "2026-11-02", "2026-11-03"], [0, 5, 10])
    assert svg.count("<rect") == 3
    heights = [float(h) for h in re.findall(r'<rect [^>]*height="([0-9.]+)"', svg)]
    assert heights[0] == 0 and heights[2] == 2 * heights[1]
    assert "2026-11-01" in svg and "2026-11-03" in svg
    assert "<title>2026-11-02: 5</title>" in svg


def test_an_empty_range_draws_an_empty_chart() -> None:
    svg = bar_chart("Nothing", [], [])
    assert svg.startswith("<svg") and "<rect" not in svg


def test_everything_given_is_escaped() -> None:
    assert esc('<a href="x">&\'') == "&lt;a href=&quot;x&quot;&gt;&amp;&#x27;"
    svg = bar_chart("<script>", ["<b>"], [1])
    assert "<script>" not in svg and "<b>" not in svg
    form = button_form("/admin/do/hide", "<i>", "tok", {"commentId": '"><script>'})
    assert "<script>" not in form and "<i>" not in form
    assert link("/admin/conversations", {"q": "<&>", "empty": ""}) == (
        "/admin/conversations?q=%3C%26%3E"
    )
