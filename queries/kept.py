"""Answers kept for the next time they are asked: a bounded store shared by the questions' caches.

A question keeps what it worked out under a key that says everything the answer depends on (for
most, the engine's id from `queries.engine.engine_instance`: an engine's extract never changes
under it). The store keeps at most `limit` answers, dropping the least recently used, and may be
read and written from several sessions' threads at once.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Any


class KeptAnswers:
    """At most `limit` answers by key, least recently used dropped first; safe across threads."""

    def __init__(self, limit: int):
        self.limit = limit
        self._answers: OrderedDict = OrderedDict()
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._answers)

    def get(self, key: Hashable, default: Any = None) -> Any:
        with self._lock:
            if key not in self._answers:
                return default
            self._answers.move_to_end(key)
            return self._answers[key]

    def put(self, key: Hashable, answer: Any) -> None:
        with self._lock:
            self._answers[key] = answer
            self._answers.move_to_end(key)
            while len(self._answers) > self.limit:
                self._answers.popitem(last=False)

    def get_or_build(self, key: Hashable, build: Callable[[], Any]) -> Any:
        """The kept answer, else build() kept. Built outside the lock: two sessions may both build it once."""
        missing = object()
        answer = self.get(key, missing)
        if answer is missing:
            answer = build()
            self.put(key, answer)
        return answer
