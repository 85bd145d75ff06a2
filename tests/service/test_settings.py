"""Settings an operator does not give are chosen so that every command agrees with every other."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from companion.cli.processes import served_at
from companion.core.settings import ConfigError, load_settings

BIN = Path(sys.executable).parent


def test_a_generated_signing_key_is_kept_beside_the_sqlite_file_whatever_the_folder(tmp_path):
    url = f"sqlite:///{tmp_path}/shop/companion.db"
    (tmp_path / "shop").mkdir()
    first = load_settings({"COMPANION_DATABASE_URL": url})
    assert first.secret_key_from == str(tmp_path / "shop" / ".companion-secret")
    assert oct((tmp_path / "shop" / ".companion-secret").stat().st_mode & 0o777) == "0o600"
    assert load_settings({"COMPANION_DATABASE_URL": url}).secret_key == first.secret_key


def test_a_sign_in_link_made_from_another_folder_is_accepted_by_the_running_service(tmp_path):
    """`companion dashboard-link` run elsewhere used to make its own key in that folder."""
    shop, elsewhere = tmp_path / "shop", tmp_path / "elsewhere"
    shop.mkdir(), elsewhere.mkdir()
    env = {k: v for k, v in os.environ.items() if not k.startswith("COMPANION_")}
    env["COMPANION_DATABASE_URL"] = f"sqlite:///{shop}/companion.db"
    added = subprocess.run(
        [
            str(BIN / "companion"),
            "sites",
            "add",
            "--name",
            "Shop",
            "--url",
            "https://s.example",
            "--json",
        ],
        cwd=shop,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    site_id = added.stdout.strip().splitlines()[-1].split('"id": "')[1].split('"')[0]
    link = subprocess.run(
        [str(BIN / "companion"), "dashboard-link", "--site", site_id],
        cwd=elsewhere,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    assert not (elsewhere / ".companion-secret").exists()
    key = (shop / ".companion-secret").read_text().strip()
    assert (
        load_settings({"COMPANION_DATABASE_URL": env["COMPANION_DATABASE_URL"]}).secret_key == key
    )
    assert link.startswith("http://127.0.0.1:8000/dashboard/login/")


def test_postgresql_and_mariadb_need_the_key_set_so_every_process_shares_it():
    for url in ("postgresql://u@db/companion", "mysql://u@db/companion"):
        with pytest.raises(ConfigError, match="COMPANION_SECRET_KEY must be set"):
            load_settings({"COMPANION_DATABASE_URL": url})
    given = load_settings(
        {"COMPANION_DATABASE_URL": "postgresql://u@db/c", "COMPANION_SECRET_KEY": "k" * 32}
    )
    assert given.secret_key_from == "COMPANION_SECRET_KEY"


def test_the_public_url_is_the_address_served_unless_one_is_set(tmp_path):
    url = f"sqlite:///{tmp_path}/companion.db"
    assert (
        served_at(load_settings({"COMPANION_DATABASE_URL": url}), "127.0.0.1", 9000).public_url
        == "http://127.0.0.1:9000"
    )
    behind_proxy = load_settings(
        {"COMPANION_DATABASE_URL": url, "COMPANION_PUBLIC_URL": "https://sc.shop.example/"}
    )
    assert served_at(behind_proxy, "127.0.0.1", 9000).public_url == "https://sc.shop.example"
