"""Slack surface: the only package in the product that imports slack_sdk / slack_bolt.

`adapter.create_adapter(runtime)` wires a Bolt app (HTTP on `POST /slack/events`, Socket Mode
when `SLACK_APP_TOKEN` is set) to the neutral core, and offers `SlackOutbox` to scheduled jobs.
"""
