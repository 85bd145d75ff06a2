"""`companion doctor` says in words what is wrong and what to do."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import requests
from click.testing import CliRunner

from companion.cli import doctor, main
from companion.core.db import bind_database, database


class Answer:
    def __init__(self, status: int, body: Any = None) -> None:
        self.status_code, self.body = status, body

    def json(self) -> Any:
        return self.body


def sendgrid(scopes: Answer, senders: list[dict[str, Any]], domains: list[dict[str, Any]]) -> Any:
    """SendGrid's read API as seen by the doctor: scopes, verified senders, authenticated
    domains."""

    def get(url: str, **kwargs: Any) -> Answer:
        assert kwargs["headers"]["Authorization"] == "Bearer SG.key"
        if url.endswith("/v3/scopes"):
            return scopes
        if url.endswith("/v3/verified_senders"):
            return Answer(200, {"results": senders})
        return Answer(200, domains)

    return get


def with_key(settings: Any) -> Any:
    return replace(settings, sendgrid_api_key="SG.key")


def test_without_a_sendgrid_key_mail_stays_in_the_outbox_and_doctor_says_how_to_send(settings):
    [finding] = doctor.check_sendgrid(settings, ["shop@shop.example"])
    assert finding.status == doctor.WARN and "outbox mode" in finding.seen
    assert "COMPANION_SENDGRID_API_KEY" in finding.fix


def test_a_rejected_key_is_a_problem_with_what_to_do(settings):
    [finding] = doctor.check_sendgrid(with_key(settings), [], get=sendgrid(Answer(401), [], []))
    assert finding.status == doctor.FAIL and "rejected the API key" in finding.seen
    assert "Mail Send" in finding.fix


def test_a_key_without_mail_send_is_a_problem(settings):
    key, _ = doctor.check_sendgrid(
        with_key(settings), [], get=sendgrid(Answer(200, {"scopes": ["stats.read"]}), [], [])
    )
    assert key.status == doctor.FAIL and "mail.send" in key.seen


def test_an_unverified_sender_is_named_and_a_verified_one_or_domain_passes(settings):
    scopes = Answer(200, {"scopes": ["mail.send"]})
    senders = [
        {"from_email": "shop@shop.example", "verified": True},
        {"from_email": "hi@other.example", "verified": False},
    ]
    key, sender = doctor.check_sendgrid(
        with_key(settings),
        ["shop@shop.example", "hi@other.example"],
        get=sendgrid(scopes, senders, []),
    )
    assert key.status == doctor.OK
    assert (
        sender.status == doctor.FAIL
        and "hi@other.example" in sender.seen
        and "shop@" not in sender.seen
    )
    domains = [{"domain": "other.example", "valid": True}]
    _, sender = doctor.check_sendgrid(
        with_key(settings), ["hi@other.example"], get=sendgrid(scopes, [], domains)
    )
    assert sender.status == doctor.OK


def test_sendgrid_out_of_reach_is_a_problem(settings):
    def down(url: str, **kwargs: Any) -> Any:
        raise requests.ConnectionError("connection refused")

    [finding] = doctor.check_sendgrid(with_key(settings), [], get=down)
    assert finding.status == doctor.FAIL and "did not answer" in finding.seen


def test_a_public_url_nobody_can_reach_is_a_problem(settings):
    def down(url: str, **kwargs: Any) -> Any:
        raise requests.ConnectionError("name not resolved")

    finding = doctor.check_public_url(settings, get=down)
    assert finding.status == doctor.FAIL and "COMPANION_PUBLIC_URL" in finding.fix
    assert (
        doctor.check_public_url(
            replace(settings, public_url="https://track.shop.example"),
            get=lambda url, **kw: Answer(200),
        ).status
        == doctor.OK
    )
    plain = doctor.check_public_url(settings, get=lambda url, **kw: Answer(200))
    assert plain.status == doctor.WARN and "https" in plain.fix


def test_without_worker_and_scheduler_heartbeats_doctor_says_what_to_start(db, settings):
    worker, scheduler = doctor.check_processes(settings)
    assert worker.status == doctor.FAIL and "companion worker" in worker.fix
    assert scheduler.status == doctor.FAIL and "companion scheduler" in scheduler.fix


def test_a_database_that_cannot_be_reached_is_a_problem(db, settings):
    bind_database("postgresql://nobody@127.0.0.1:1/none")
    try:
        finding = doctor.check_database()
    finally:
        database.initialize(db)
    assert finding.status == doctor.FAIL and "COMPANION_DATABASE_URL" in finding.fix


def test_the_doctor_command_lists_every_check_and_exits_1_when_something_is_broken(
    db, database_url, settings
):
    env = {
        "COMPANION_DATABASE_URL": database_url,
        "COMPANION_REDIS_URL": settings.redis_url,
        "COMPANION_SECRET_KEY": settings.secret_key,
        "COMPANION_PUBLIC_URL": "http://127.0.0.1:1",
    }
    result = CliRunner().invoke(main, ["doctor"], env=env)
    assert result.exit_code == 1
    for name in (
        "Configuration",
        "Database: Reachable",
        "Redis: Reachable",
        "Worker",
        "Scheduler",
        "Public URL",
        "SendGrid",
    ):
        assert name in result.output, result.output
    assert "→ Start at least one `companion worker`" in result.output
