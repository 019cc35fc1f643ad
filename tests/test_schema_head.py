"""The schema head read from the revision scripts' lines (no Alembic import on every CLI answer)
is Alembic's own head; scripts the line reader does not understand are left to Alembic."""

from __future__ import annotations

from pathlib import Path

import pytest
from alembic.util import CommandError

from storage import db as storage_db
from storage.db import _alembic_head, head_revision


def test_head_read_from_the_scripts_is_alembics_head() -> None:
    assert head_revision() == _alembic_head()


def _script(folder: Path, revision: str, down: str) -> None:
    (folder / f"{revision}_x.py").write_text(
        f'revision: str = "{revision}"\ndown_revision: str | None = {down}\n'
        "def upgrade() -> None:\n    pass\n\ndef downgrade() -> None:\n    pass\n", encoding="utf-8")


@pytest.fixture
def versions(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    (tmp_path / "versions").mkdir()
    monkeypatch.setattr(storage_db, "MIGRATIONS_DIR", tmp_path)
    head_revision.cache_clear()
    yield tmp_path / "versions"
    head_revision.cache_clear()


def test_a_chain_is_read_from_its_lines(versions: Path) -> None:
    _script(versions, "0001", "None")
    _script(versions, "0003", '"0001"')  # numbering need not follow the chain
    _script(versions, "0002", '"0003"')
    assert head_revision() == "0002"


def test_a_merge_revision_goes_to_alembic(versions: Path) -> None:
    _script(versions, "0001", "None")
    _script(versions, "0002", '"0001"')
    _script(versions, "0003", '"0001"')
    _script(versions, "0004", '("0002", "0003")')  # not one name: Alembic reads it
    assert head_revision() == "0004"


def test_two_heads_are_alembics_error(versions: Path) -> None:
    _script(versions, "0001", "None")
    _script(versions, "0002", '"0001"')
    _script(versions, "0003", '"0001"')
    with pytest.raises(CommandError):
        head_revision()
