"""The garbage collector of the history import's two long-running processes.

Applying a batch builds and drops hundreds of thousands of small dicts and tuples. CPython frees
them by reference count; its cycle collector only looks for cycles, and with its defaults it ran
thousands of times per 100,000 orders, each full collection walking every object the process had
loaded (modules, classes, schemas: 130,000 objects in the import's applying process), 80 ms each.
Measured on `bench_import_e2e --engine sqlite --orders 100000`: 3.7 s of the applying process's
36 s of CPU went to the collector; after `settle()`, 0.3 s (docs/benchmarks.md, issue 19).

`settle()` is called once, after start-up: what is alive then is kept for the process's life
(`gc.freeze`: the collector no longer walks it), and the youngest generation is collected every
YOUNG allocations instead of 700. Cycles are still collected, a little later; memory stays flat
(the benches sample RSS). The RQ worker does not call it: it ran almost no collections, and the
orders stream through it showed no difference.
"""

from __future__ import annotations

import gc

YOUNG = 20_000  # allocations between collections of the youngest generation (CPython's is 700)


def settle() -> None:
    """Freeze what start-up loaded and collect the young generation less often."""
    gc.collect()
    gc.freeze()
    _, older, oldest = gc.get_threshold()
    gc.set_threshold(YOUNG, older, oldest)
