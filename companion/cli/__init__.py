"""The `companion` command: every process and admin task, reading the same COMPANION_* settings.

One module per command family (processes, sites, demo, doctor, imports, rollups, intelligence); each
opens the database through `cli.context`, and this module only gathers them under `main`."""

from __future__ import annotations

import sys

import click

from companion.cli import demo, doctor, imports, processes, sites
from companion.cli.intelligence import intelligence
from companion.cli.rollups import rollups

HELP = """Sales Companion: sales tracking and revenue flows for WordPress stores.

Every command reads the same COMPANION_* settings (docs/configuration.md).

\b
Examples:
  companion run                                   # embedded: web + worker + scheduler on SQLite
  companion sites add --name Shop --url https://shop.example --timezone Europe/Berlin --currency EUR
  companion sites set-woo-secret --site ID --secret S
  companion import woocommerce --site ID --url https://shop.example --key ck_... --secret cs_...
  companion demo seed --days 180 --orders-per-day 40
  companion dashboard-link --site ID              # a 15-minute sign-in link
  companion sites sign-out-everywhere --site ID   # end every dashboard session of the site
  companion rollups rebuild --site ID
  companion intelligence refresh --site ID
  companion doctor                                # what is misconfigured, in words
  companion worker / companion scheduler          # production split, with COMPANION_REDIS_URL
"""


@click.group(help=HELP)
def main() -> None:
    pass


for command in (
    processes.migrate,
    processes.run,
    processes.worker,
    processes.scheduler,
    sites.sites,
):
    main.add_command(command)
main.add_command(rollups)
main.add_command(intelligence)
main.add_command(demo.demo)
main.add_command(demo.dashboard_link)
main.add_command(doctor.doctor)
main.add_command(imports.import_group)


if __name__ == "__main__":
    sys.exit(main())
