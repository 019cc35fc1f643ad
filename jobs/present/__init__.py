"""Platform-neutral presentation: the reply model, number formatting and the message catalogue.

It lives in `jobs/` because both chat answers (bot/) and scheduled posts (jobs/) build replies,
and dependencies point bot → jobs → storage.
"""
