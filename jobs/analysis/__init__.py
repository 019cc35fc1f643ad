"""The review partner's answers (issue 15): why a KPI moved, unusual days, baselines, notes and before/after,
as neutral replies in English and Chinese, with the waterfall chart."""
