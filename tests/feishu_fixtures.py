"""Fixtures for the Feishu tests (registered in conftest.py): the real bot against a fake Feishu."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.fakes.feishu_api import FeishuBot, running_feishu_bot


@pytest.fixture
def bot(make_settings: Callable[..., Any], tmp_path: Path) -> Iterator[FeishuBot]:
    with running_feishu_bot(make_settings, tmp_path) as running:
        yield running
