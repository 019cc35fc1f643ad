"""The review commands answered over each chat surface (real bot, fake Slack / Feishu / DingTalk servers).

Fixture, relative to the bot's today: team GMV on the Monday of the week before last, shop-a 12,000 and
shop-b 8,000 (20,000); on last week's Monday shop-a 10,000 and shop-b 9,200 (19,200).
`why gmv last-week`: 20,000 → 19,200 = −800, −800 / 20,000 = −4.0 %.
  shop-a 12,000 → 10,000 = −2,000 → −2,000 / −800 = 250.0 % of the change; shop-b +1,200 → −150.0 %.
Orders (team rows) on the 8 Mondays before last week's: 100, 104, 96, 102, 98, 101, 99, 100, then 130:
median 100, MAD 1.5 → z = 0.6745 · 30 / 1.5 = +13.5 (`unusual last-week`).
"""

from __future__ import annotations

import json
from datetime import date, timedelta

from bot.core.bot import KpiBot
from storage.db import Database
from storage.repositories.facts import FactRecord, upsert_facts
from tests.fakes.dingtalk_api import DingTalkBot, robot_message
from tests.fakes.feishu_api import P2P_CHAT, FeishuBot
from tests.fakes.slack_api import MEMBER_ID, SlackBot


def seed(db: Database, core: KpiBot) -> None:
    calendar = core.engine.calendar
    last = calendar.previous(calendar.week(core.engine.today()))
    before: date = last.start - timedelta(weeks=1)
    rows = [FactRecord("gmv", before, 12_000, source="test", shop="shop-a"),
            FactRecord("gmv", before, 8_000, source="test", shop="shop-b"),
            FactRecord("gmv", last.start, 10_000, source="test", shop="shop-a"),
            FactRecord("gmv", last.start, 9_200, source="test", shop="shop-b")]
    for weeks_back, value in enumerate([100, 104, 96, 102, 98, 101, 99, 100], start=1):
        rows.append(FactRecord("orders", last.start - timedelta(weeks=weeks_back), value, source="test"))
    rows.append(FactRecord("orders", last.start, 130, source="test"))
    with db.session() as session:
        upsert_facts(session, rows)


def test_why_and_unusual_over_slack(slack_bot: SlackBot) -> None:
    seed(slack_bot.runtime.db, slack_bot.runtime.core)
    english = json.dumps(slack_bot.slash("why gmv last-week", user_id=MEMBER_ID).json(), ensure_ascii=False)
    assert "$20K → $19.2K (-$800, -4.0%)" in english
    assert "shop-a" in english and "250.0%" in english and "-150.0%" in english
    chinese = json.dumps(slack_bot.slash("上周GMV为什么下降", user_id=MEMBER_ID).json(), ensure_ascii=False)
    assert "$2万 → $1.92万（-$800, -4.0%）" in chinese and "哪些店铺带来的变化" in chinese
    unusual = json.dumps(slack_bot.slash("unusual last-week", user_id=MEMBER_ID).json(), ensure_ascii=False)
    assert "+13.5" in unusual and "130" in unusual


def test_why_over_feishu(bot: FeishuBot) -> None:
    seed(bot.runtime.db, bot.runtime.core)
    for text, figure in (("why gmv last-week", "$20K → $19.2K (-$800, -4.0%)"),
                         ("上周GMV为什么下降", "$2万 → $1.92万（-$800, -4.0%）")):
        event = bot.message(text, chat_type="p2p", chat_id=P2P_CHAT)
        assert bot.poster.post(event).status_code == 200
        reply = bot.fake.wait_for_reply(event["event"]["message"]["message_id"])
        card = json.dumps(reply.content, ensure_ascii=False)
        assert figure in card and "250.0%" in card


def test_why_and_unusual_over_dingtalk(dingtalk: DingTalkBot) -> None:
    seed(dingtalk.runtime.db, dingtalk.runtime.core)
    questions = [("why gmv last-week", "$20K → $19.2K (-$800, -4.0%)"),
                 ("上周GMV为什么下降", "$2万 → $1.92万（-$800, -4.0%）"),
                 ("unusual last-week", "+13.5")]
    for count, (text, figure) in enumerate(questions, start=1):
        assert dingtalk.signed_post(robot_message(dingtalk.fake, text)).status_code == 200
        sent = dingtalk.fake.wait_for_sent(count)[-1]
        assert figure in sent.markdown, sent.markdown
    assert "250.0%" in dingtalk.fake.sent[0].markdown
