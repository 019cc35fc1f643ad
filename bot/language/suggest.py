"""Did-you-mean from the words the bot knows, never changing what was meant.

A word that already means something (`last`, `this`, `week`, a KPI, a person) is never
"corrected" into another (`last` → `list` would turn a question into a command). `typo_of` accepts
only an unambiguous slip of one letter (typed, dropped, doubled or swapped) in a word of five
letters or more; anything further away is a suggestion for the user to confirm, never a guess.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable


class Suggester:
    def __init__(self, candidates: Iterable[str], meaningful: Iterable[str] = ()) -> None:
        self.candidates = sorted({c.lower() for c in candidates if c})
        self.meaningful = {w.lower() for w in meaningful} | set(self.candidates)
        self._by_length: dict[int, list[str]] = {}
        for word in self.candidates:
            self._by_length.setdefault(len(word), []).append(word)

    def closest(self, word: str) -> str | None:
        """The closest known word, or None when `word` means something already or nothing is close."""
        low = word.lower()
        if low in self.meaningful:
            return None
        close = difflib.get_close_matches(low, self.candidates, n=1, cutoff=0.75)
        return close[0] if close else None

    def typo_of(self, word: str) -> str | None:
        """The one known word `word` is a one-letter slip of (`convesion` → `conversion`), else None."""
        low = word.lower()
        if len(low) < 5 or low in self.meaningful or not low.isascii():
            return None
        found = {c for size in (len(low) - 1, len(low), len(low) + 1) for c in self._by_length.get(size, ())
                 if _one_slip(low, c)}
        return found.pop() if len(found) == 1 else None


def _one_slip(a: str, b: str) -> bool:
    """Damerau distance exactly 1: one letter inserted, deleted, replaced, or two neighbours swapped."""
    if a == b:
        return False
    if len(a) == len(b):
        diff = [i for i in range(len(a)) if a[i] != b[i]]
        if len(diff) == 1:
            return True
        return len(diff) == 2 and diff[1] == diff[0] + 1 and a[diff[0]] == b[diff[1]] and a[diff[1]] == b[diff[0]]
    short, long_ = (a, b) if len(a) < len(b) else (b, a)
    return any(long_[:i] + long_[i + 1:] == short for i in range(len(long_)))
