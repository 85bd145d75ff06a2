"""CPU of the products page's first view of a day, split: the stored outlook is dropped, then its
parts run in turn (units stamp, eight weeks of units, forecasts and stalled products, storing the
rows) and a second call reads the stored rows back.

    .venv/bin/python bench/profile_outlook.py --database-url sqlite:////path/to/large.db --repeat 5

Uses the functions of `companion.intelligence.outlook` in the checkout on the path, so the same file
times an older checkout too (PYTHONPATH=<checkout>)."""

from __future__ import annotations

import argparse
import time
from itertools import pairwise

from bench_pages import app_for  # run as a script: bench/ is on the path

from companion.core.days import local_day

try:
    from companion.intelligence import outlook
except ImportError:  # a checkout from before the outlook moved out of the products page
    from companion.dashboard import products as outlook
from companion.models import Site, utcnow
from companion.models.rollups import ProductOutlook


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    app = app_for(args.database_url)
    with app.app_context():
        site = Site.select().order_by(Site.id.desc()).first()
        today = local_day(utcnow(), site.timezone)
        for _ in range(args.repeat):
            ProductOutlook.delete().where(ProductOutlook.site == site.id).execute()
            marks = [time.process_time()]
            stamp = outlook._units_stamp(site, today)
            marks.append(time.process_time())
            ids, matrix = outlook.daily_units(site, today)
            marks.append(time.process_time())
            rows = outlook._computed(ids, matrix)
            marks.append(time.process_time())
            outlook._store(site, today, stamp, rows)
            marks.append(time.process_time())
            outlook.outlook(site, today)
            marks.append(time.process_time())
            ms = [round((b - a) * 1000, 1) for a, b in pairwise(marks)]
            print(
                f"cpu ms: stamp {ms[0]} units {ms[1]} ({matrix.shape[0]} products) forecasts "
                f"{ms[2]} store {ms[3]} ({len(rows)} rows) read back {ms[4]}",
                flush=True,
            )


if __name__ == "__main__":
    main()
