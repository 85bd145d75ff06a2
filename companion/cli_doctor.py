"""`companion doctor`: configuration, database, Redis, SendGrid, public URL, worker and scheduler."""
from __future__ import annotations

import click

MARKS = {"ok": ("✔", "green"), "warning": ("!", "yellow"), "problem": ("✘", "red")}


@click.command(help="Check configuration, database, Redis, SendGrid (key, verified sender), the public URL and "
                    "the worker and scheduler heartbeats; say what to fix. Exits 1 when something is broken.\n\n"
                    "Example:\n\n  COMPANION_DATABASE_URL=postgresql://... companion doctor")
def doctor() -> None:
    from companion.cli import _database
    from companion.doctor import run_checks

    settings = _database(migrate=False)
    findings = run_checks(settings)
    for finding in findings:
        mark, colour = MARKS[finding.status]
        click.echo(f"{click.style(mark, fg=colour)} {finding.name}: {finding.seen}")
        if finding.fix:
            click.echo(f"    → {finding.fix}")
    problems = sum(1 for f in findings if f.status == "problem")
    warnings = sum(1 for f in findings if f.status == "warning")
    click.echo(f"\n{problems} problem(s), {warnings} warning(s).")
    if problems:
        raise SystemExit(1)
