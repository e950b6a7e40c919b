"""Drawing an audit's sample: reproducible, stratified, proportional.

- **Reproducible**: each child's place in the draw is a seeded hash of its ID (SHA-256 of
  `seed:child_id`), so the same seed and cohort always give the same children, whatever order the
  cohort's rows come in; a cohort that gains a child changes the sample by at most that child.
  Within each stratum the children with the lowest hashes are taken: a simple random sample.
- **Proportional allocation**: the sample size is shared between strata in proportion to their
  size in the cohort (largest remainder), except that every stratum gets at least MIN_PER_STRATUM
  children where it has that many (the interval of a stratum needs two to estimate its spread) and
  none gets more than it has. The estimate weights each stratum by its share of the cohort
  (workbench/estimates.py), so the small strata's extra children do not bias it.
- **Reading order**: the sampled children are numbered 1, 2, … in hash order across strata, so
  reading the files in that order gives a random subsample at every point of the audit.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from dataclasses import dataclass

MIN_PER_STRATUM = 2


class SampleError(ValueError):
    """The sample cannot be drawn as asked; the message is safe to show."""


@dataclass(frozen=True)
class SampledChild:
    child_id: str
    stratum: str
    sample_order: int


def draw_key(seed: int, child_id: str) -> bytes:
    """A child's place in the draw: the lower, the earlier it is taken."""
    return hashlib.sha256(f"{seed}:{child_id}".encode()).digest()


def allocate(cohort_sizes: dict[str, int], size: int) -> dict[str, int]:
    """How many children to draw from each stratum: proportional, at least MIN_PER_STRATUM, at most all.

    One child at a time goes to the stratum furthest below its proportional share (ties: the
    stratum named first), which is the largest-remainder allocation when no bound is reached.
    """
    if size < 1:
        raise SampleError("the sample size must be at least 1")
    total = sum(cohort_sizes.values())
    if total == 0:
        raise SampleError("the cohort has no children")
    if size >= total:
        return dict(cohort_sizes)  # everyone: a census of the cohort
    allocation = {s: min(n, MIN_PER_STRATUM) for s, n in sorted(cohort_sizes.items())}
    if sum(allocation.values()) > size:
        raise SampleError(
            f"a sample of {size} is too small for {len(cohort_sizes)} strata: each needs at least "
            f"{MIN_PER_STRATUM} children; draw a larger sample or use fewer strata"
        )
    share = {s: size * n / total for s, n in cohort_sizes.items()}
    for _ in range(size - sum(allocation.values())):
        open_strata = [s for s in allocation if allocation[s] < cohort_sizes[s]]
        chosen = max(open_strata, key=lambda s: (share[s] - allocation[s], -open_strata.index(s)))
        allocation[chosen] += 1
    return allocation


def draw_sample(members: list[tuple[str, str]], size: int, seed: int) -> tuple[dict[str, tuple[int, int]], list]:
    """From the cohort's (child_id, stratum) pairs: ({stratum: (cohort size, sample size)}, the sampled children).

    The children come back in reading order (sample_order 1, 2, …).
    """
    ids = [child for child, _ in members]
    if len(set(ids)) != len(ids):
        raise SampleError("the cohort lists a child twice")
    cohort_sizes = dict(Counter(stratum for _, stratum in members))
    allocation = allocate(cohort_sizes, size)
    by_stratum: dict[str, list[tuple[bytes, str]]] = {}
    for child, stratum in members:
        by_stratum.setdefault(stratum, []).append((draw_key(seed, child), child))
    chosen = []
    for stratum, keyed in by_stratum.items():
        chosen += [(key, child, stratum) for key, child in sorted(keyed)[: allocation[stratum]]]
    chosen.sort()
    sample = [SampledChild(child, stratum, order) for order, (_, child, stratum) in enumerate(chosen, start=1)]
    strata = {s: (cohort_sizes[s], allocation[s]) for s in sorted(cohort_sizes)}
    return strata, sample
