"""An audit's questions and the answers they take.

A question is written `code|label|kind`, or `code|label|category|choice, choice, …`:

- `yes_no`: yes, no or not recorded;
- `category`: one of its choices, or not recorded;
- `number`: a number, or not recorded;
- `note`: free text (read, not counted: notes are left out of the estimates).

"Not recorded" (the file does not say) is an answer of its own, never a blank: an estimate reports it
on its own row. Answers are checked and written in one canonical form (`Yes` -> `yes`, `2.50` -> `2.5`).
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

KINDS = ("yes_no", "category", "number", "note")
NOT_RECORDED = "not recorded"
CODE = re.compile(r"^[a-z][a-z0-9_]{0,39}$")
MAX_NOTE = 4000


class QuestionError(ValueError):
    """A question or an answer is not understood; the message is safe to show (it quotes no answer text)."""


@dataclass(frozen=True)
class Question:
    code: str
    label: str
    kind: str
    choices: tuple[str, ...] = ()

    @property
    def answers(self) -> tuple[str, ...]:
        """The answers an estimate counts, in order ("not recorded" last); none for a note."""
        if self.kind == "yes_no":
            return ("yes", "no", NOT_RECORDED)
        if self.kind == "category":
            return (*self.choices, NOT_RECORDED)
        if self.kind == "number":
            return ("recorded", NOT_RECORDED)
        return ()

    def answer(self, raw: str) -> str:
        """The canonical form of an answer to this question; QuestionError if it is not one."""
        text = " ".join(str(raw).split())
        if not text:
            raise QuestionError(f"{self.code}: the answer is empty")
        if self.kind == "note":
            if len(text) > MAX_NOTE:
                raise QuestionError(f"{self.code}: a note is at most {MAX_NOTE} characters")
            return text
        if text.lower().replace("_", " ").replace("-", " ") == NOT_RECORDED:
            return NOT_RECORDED
        if self.kind == "yes_no":
            if text.lower() not in ("yes", "no"):
                raise QuestionError(f"{self.code}: answer yes, no or not recorded")
            return text.lower()
        if self.kind == "category":
            chosen = next((c for c in self.choices if c.lower() == text.lower()), None)
            if chosen is None:
                raise QuestionError(f"{self.code}: answer one of {', '.join(self.choices)} or not recorded")
            return chosen
        try:
            number = float(text)
        except ValueError:
            raise QuestionError(f"{self.code}: answer a number or not recorded") from None
        if not math.isfinite(number):
            raise QuestionError(f"{self.code}: answer a number or not recorded")
        return str(int(number)) if number.is_integer() else repr(number)


def parse_question(spec: str) -> Question:
    """`code|label|kind` or `code|label|category|choice, choice` -> Question."""
    parts = [p.strip() for p in spec.split("|")]
    if len(parts) not in (3, 4):
        raise QuestionError(f"a question is code|label|kind (or code|label|category|choice, choice), got {spec!r}")
    code, label, kind = parts[:3]
    if not CODE.match(code):
        raise QuestionError(f"question code {code!r}: lower-case letters, digits and _, starting with a letter")
    if not label:
        raise QuestionError(f"question {code}: the label is empty")
    if kind not in KINDS:
        raise QuestionError(f"question {code}: the kind must be one of {', '.join(KINDS)}, not {kind!r}")
    choices: tuple[str, ...] = ()
    if kind == "category":
        choices = tuple(c.strip() for c in (parts[3] if len(parts) == 4 else "").split(",") if c.strip())
        if len(choices) < 2:
            raise QuestionError(f"question {code}: a category question needs at least two choices, after a |")
        if len({c.lower() for c in choices}) != len(choices) or NOT_RECORDED in {c.lower() for c in choices}:
            raise QuestionError(f"question {code}: the choices must differ, and 'not recorded' is always offered")
    elif len(parts) == 4:
        raise QuestionError(f"question {code}: only a category question has choices")
    return Question(code, label, kind, choices)
