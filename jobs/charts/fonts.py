"""The chart fonts: DejaVu Sans for Latin text, a CJK family as fallback for Chinese.

The project ships the OFL Noto Sans CJK collection via the `noto-cjk-sans-otc` wheel. Its
.ttc holds ten faces (JP, KR, SC, TC, HK and their Mono variants); matplotlib registers each
under its own family name, and we pick "Noto Sans CJK SC" so simplified-Chinese glyph forms
are used. If the wheel is missing we fall back to a CJK font already known to matplotlib and
log one warning.

Registration happens once, under a lock, the first time a font is asked for (call
`font_families()` at start-up to pay the ~20 ms early). Global rcParams are never touched:
renderers pass `chart_font()` / `font_families()` to each text artist, so other threads'
figures and `rc_context` users are unaffected.
"""

from __future__ import annotations

import importlib.resources
import logging
import threading
import unicodedata
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # matplotlib loads with the first chart, not with the module
    from matplotlib.font_manager import FontProperties

log = logging.getLogger(__name__)

LATIN_FAMILY = "DejaVu Sans"
SHIPPED_FONT_PACKAGE = "noto_cjk_sans_otc"
SHIPPED_FONT_FILE = "NotoSansCJK-Regular.ttc"
SHIPPED_CJK_FAMILY = "Noto Sans CJK SC"

# Tried in order when the shipped font is unavailable.
SYSTEM_CJK_FAMILIES = (
    "Noto Sans CJK SC",
    "Source Han Sans SC",
    "Noto Sans SC",
    "Source Han Sans CN",
    "WenQuanYi Zen Hei",
    "WenQuanYi Micro Hei",
    "Microsoft YaHei",
    "PingFang SC",
    "Hiragino Sans GB",
    "SimHei",
    "Noto Sans CJK JP",
    "Source Han Sans",
    "Droid Sans Fallback",
)

_lock = threading.RLock()
_families: tuple[str, ...] | None = None
_covered: frozenset[int] | None = None


def font_families() -> list[str]:
    """The family fallback list for chart text, e.g. ["DejaVu Sans", "Noto Sans CJK SC"]."""
    global _families
    if _families is None:
        with _lock:
            if _families is None:
                _families = _register_fonts()
    return list(_families)


def cjk_family() -> str | None:
    """The CJK family in use, or None when no CJK font could be found."""
    families = font_families()
    return families[1] if len(families) > 1 else None


def chart_font(size: float) -> FontProperties:
    """Font properties for one text artist (a fresh object: artists may keep a reference)."""
    from matplotlib.font_manager import FontProperties
    return FontProperties(family=font_families(), size=size)


def drop_unrenderable(text: str) -> str:
    """`text` without the emoji and other symbols no chart font has.

    Display names often carry emoji, which would render as empty boxes and log a
    missing-glyph warning on every render. Only symbols, marks and control/format characters
    are dropped: letters, digits and punctuation are always kept, so a missing CJK font still
    shows up (as boxes and warnings) instead of silently erasing Chinese text.
    """
    covered = _covered_codepoints()
    kept = "".join(
        char for char in text
        if char.isspace() or ord(char) in covered or unicodedata.category(char)[0] not in "SMC"
    )
    if text.strip() and not kept.strip():
        return "?"
    return " ".join(kept.split())


def _covered_codepoints() -> frozenset[int]:
    global _covered
    if _covered is None:
        with _lock:
            if _covered is None:
                _covered = _load_coverage(font_families())
    return _covered


def _load_coverage(families: list[str]) -> frozenset[int]:
    from matplotlib import font_manager
    from matplotlib.font_manager import FontProperties
    covered: set[int] = set()
    for family in families:
        path = font_manager.findfont(FontProperties(family=family), fallback_to_default=False)
        covered.update(font_manager.get_font(path).get_charmap())
    return frozenset(covered)


def font_rc() -> dict[str, object]:
    """rcParams for callers that prefer `matplotlib.rc_context(font_rc())`.

    Note `rc_context` swaps the global rcParams for its duration, so it is not safe while
    other threads build figures; the renderers here pass fonts per artist instead.
    """
    return {"font.family": font_families()}


def _register_fonts() -> tuple[str, ...]:
    shipped = _register_shipped_font()
    if shipped is not None:
        return (LATIN_FAMILY, shipped)
    system = _find_system_cjk_family()
    if system is None:
        log.warning(
            "Package %s is not installed and no system CJK font was found: "
            "Chinese chart text will render as empty boxes", SHIPPED_FONT_PACKAGE,
        )
        return (LATIN_FAMILY,)
    log.warning("Package %s is not installed; charts use system CJK font %r", SHIPPED_FONT_PACKAGE, system)
    return (LATIN_FAMILY, system)


def _register_shipped_font() -> str | None:
    from matplotlib import font_manager
    path = shipped_font_path()
    if path is None:
        return None
    font_manager.fontManager.addfont(str(path))
    return _simplified_chinese_face(path)


def shipped_font_path() -> Path | None:
    """Where the `noto-cjk-sans-otc` wheel put its .ttc, or None if it is not installed."""
    try:
        package_dir = importlib.resources.files(SHIPPED_FONT_PACKAGE)
    except ModuleNotFoundError:
        return None
    font_file = package_dir.joinpath(SHIPPED_FONT_FILE)
    # A zipped install gives a Traversable, not a file path matplotlib could open.
    if not isinstance(font_file, Path) or not font_file.is_file():
        return None
    return font_file


def _simplified_chinese_face(path: Path) -> str:
    """The family name matplotlib gave the SC face of the collection at `path`."""
    from matplotlib import font_manager
    from matplotlib.font_manager import FontProperties
    faces = [entry.name for entry in font_manager.fontManager.ttflist if Path(entry.fname) == path]
    if SHIPPED_CJK_FAMILY in faces:
        return SHIPPED_CJK_FAMILY
    proportional_sc = [name for name in faces if name.endswith(" SC") and "Mono" not in name]
    if proportional_sc:
        return proportional_sc[0]
    # Face 0 of the collection (JP in Noto's build) still covers every Han character we need.
    return FontProperties(fname=str(path)).get_name()


def _find_system_cjk_family() -> str | None:
    from matplotlib import font_manager
    known = {entry.name for entry in font_manager.fontManager.ttflist}
    for family in SYSTEM_CJK_FAMILIES:
        if family in known:
            return family
    return None
