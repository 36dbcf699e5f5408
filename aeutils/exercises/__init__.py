"""Exercise machinery: ``____`` means "not attempted"; ``check`` never raises on a learner's answer.

Each notebook's questions live in ``aeutils.exercises.nbNN`` (for instance :mod:`aeutils.exercises.nb01`).
A question is an :class:`Exercise` whose ``checker`` returns ``None`` for a right answer or a sentence that
says what is wrong.
"""

from __future__ import annotations

import numbers
from collections.abc import Callable
from dataclasses import dataclass


class _Blank:
    """The ``____`` placeholder: an answer not written yet."""

    def __repr__(self) -> str:
        return "____"


____ = _Blank()


def is_blank(answer) -> bool:
    """True when ``answer`` is the ``____`` placeholder."""
    return isinstance(answer, _Blank)


class NotAttempted(Exception):
    """Raised by :func:`call` when a learner's function still returns ``____``."""


def call(fn, *args, **kwargs):
    """Call a learner's function for a checker; a ``____`` result means the exercise is not attempted yet."""
    result = fn(*args, **kwargs)
    if is_blank(result) or (isinstance(result, tuple) and any(map(is_blank, result))):
        raise NotAttempted
    return result


@dataclass
class Exercise:
    """One question: ``check(answer)`` prints a verdict and sets ``passed``; ``hint()``, ``solution()``."""

    name: str
    checker: Callable[..., str | None]
    hint_text: str
    solution_text: str
    passed: bool = False

    def check(self, *answer) -> None:
        """Print whether ``answer`` is right (and if not, what is wrong); never raises on a wrong answer.

        The verdict is kept in ``self.passed`` (returning it would echo ``True``/``False`` under the cell).
        """
        self.passed = self._verdict(answer)

    def _verdict(self, answer: tuple) -> bool:
        try:
            if not answer or any(map(is_blank, answer)):
                raise NotAttempted
            problem = self.checker(*answer)
        except NotAttempted:
            print(f"{self.name}: not attempted yet — replace ____ with your answer, then run the cell again.")
            return False
        except Exception as err:  # the learner's code raised: report it instead of crashing the notebook
            problem = f"your answer raised {type(err).__name__}: {err}"
        if problem is None:
            print(f"{self.name}: correct!")
            return True
        print(f"{self.name}: not yet — {problem}")
        return False

    def hint(self) -> None:
        """Print a hint."""
        print(f"{self.name} hint: {self.hint_text}")

    def solution(self) -> None:
        """Print the solution."""
        print(f"{self.name} solution:\n{self.solution_text}")


def check_whole_number(answer, right: int, mistakes: dict[int, str], otherwise: str) -> str | None:
    """Checker body for a count: ``None`` if right, the message for a known mistake, else ``otherwise``."""
    if not isinstance(answer, numbers.Integral) or isinstance(answer, bool):
        return f"give a whole number, not {type(answer).__name__}."
    if answer == right:
        return None
    return mistakes.get(int(answer), f"{answer} is not it: {otherwise}")
