"""kpibot: team KPIs in Slack, Feishu/Lark and DingTalk."""

__version__ = "0.2.0"
