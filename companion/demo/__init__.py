"""The demo store: a realistic coffee-and-tea shop written through the real event API.

`catalogue` holds what the shop sells, `story` turns days into plugin events (pure, seeded),
`seed` signs those events in batches, posts them to the app and runs the jobs, exactly as a
WordPress store would feed the service.
"""

from __future__ import annotations
