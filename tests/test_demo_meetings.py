"""`make demo` (`kpibot demo`) writes the review meetings into demo-out/: a daily report, a weekly digest that
opens with the actions, a monthly one that ends with the flywheel, the funnel review (team and by shop), Chloe's
own weekly review with her composite radar, a shop's weekly review, and a role's answer with its radar — each
in English and Chinese, every chart a PNG — and prints a few answers. One run of the real command checks both:
the demo is the suite's most expensive fixture."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.test_cli import run

pytestmark = pytest.mark.sqlite_only  # the demo is its own SQLite workspace


def test_the_demo_prints_answers_and_writes_every_meeting_digest_and_chart(tmp_path: Path) -> None:
    result = run(["demo"], tmp_path)
    assert result.returncode == 0, result.stderr
    printed = result.stdout
    for answer in ("GMV · Team ·", "GMV leaderboard · Live host ·", "Chloe Zhang", "GMV · 团队 ·"):
        assert answer in printed, answer
    out = tmp_path / "demo-out"
    names = {path.name for path in out.iterdir()}
    for lang in ("en", "zh"):
        for digest in ("weekly-actions", "monthly-flywheel", "funnel-review", "funnel-by-shop", "weekly-chloe",
                       "weekly-shop", "role-host"):
            assert f"digest-{digest}-{lang}.md" in names, digest
        assert any(n.startswith("digest-daily-") and n.endswith(f"-{lang}.md") for n in names)
        for chart in ("weekly-actions-funnel", "monthly-flywheel-flywheel", "funnel-review-funnel-radar",
                      "weekly-chloe-composite-radar", "role-host-composite-radar-host", "funnel-by-shop-funnel-radar"):
            assert (out / f"{chart}-{lang}.png").read_bytes().startswith(b"\x89PNG"), chart
    weekly = (out / "digest-weekly-actions-en.md").read_text(encoding="utf-8")
    assert weekly.index("Actions from last review") < weekly.index("Team ·")  # the digest opens with them
    assert "Growth flywheel" in (out / "digest-monthly-flywheel-en.md").read_text(encoding="utf-8")
    chloe = (out / "digest-weekly-chloe-zh.md").read_text(encoding="utf-8")
    assert chloe.startswith("# 你的周复盘") and "综合得分" in chloe
    # her own action (added last week, tied to GMV) and nobody else's
    assert "Two extra evening live sessions a week" in chloe and "Pause the three campaigns" not in chloe
    assert "Anna Li" not in chloe
    shop = (out / "digest-weekly-shop-en.md").read_text(encoding="utf-8")
    assert shop.startswith("# Weekly review · Shopee SG")
    # 7 digests (daily, weekly, monthly, funnel, funnel by shop, Chloe's, the shop's) × 2 languages
    assert "written to demo-out (14 digests)" in printed
