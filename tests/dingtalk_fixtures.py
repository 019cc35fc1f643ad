"""Fixtures for the DingTalk tests (registered in conftest.py): the real bot against a fake DingTalk,
in HTTP callback mode (`dingtalk`) and in Stream mode (`dingtalk_stream_bot`)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.fakes.dingtalk_api import DingTalkBot, running_dingtalk_bot


@pytest.fixture
def dingtalk(make_settings: Callable[..., Any], tmp_path: Path) -> Iterator[DingTalkBot]:
    with running_dingtalk_bot(make_settings, tmp_path) as running:
        yield running


@pytest.fixture
def dingtalk_stream_bot(make_settings: Callable[..., Any], tmp_path: Path) -> Iterator[DingTalkBot]:
    with running_dingtalk_bot(make_settings, tmp_path, DINGTALK_MODE="stream") as running:
        assert running.fake.stream_connected.wait(10), "the Stream client did not connect"
        yield running
