"""WooCommerce deliveries as WooCommerce signs them, a site that has its webhook secret, a local
WooCommerce-shaped shop (tests/woocommerce), and `companion import woocommerce` run in-process."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from click.testing import CliRunner, Result

from companion.cli import main
from companion.core import runtime
from companion.sites import NewSite, set_woo_secret
from tests.woocommerce.service.webhooks import WOO_SECRET
from tests.woocommerce.woo_fake_shop import KEY, SECRET, FakeShop

ORDER_TOPICS = {"order.created": "created", "order.updated": "updated", "order.deleted": "deleted"}


@pytest.fixture
def woo_site(site: NewSite) -> NewSite:
    """The site, with the secret its owner typed into WooCommerce > Settings > Advanced >
    Webhooks."""
    set_woo_secret(site.site, WOO_SECRET)
    site.site.woo_secret = WOO_SECRET
    return site


@pytest.fixture
def start_shop() -> Iterator[Callable[..., FakeShop]]:
    shops: list[FakeShop] = []

    def start(data: dict[str, Any]) -> FakeShop:
        collections = {k: data[k] for k in ("orders", "products", "customers") if k in data}
        shop = FakeShop(collections, data.get("refunds")).start()
        shops.append(shop)
        return shop

    yield start
    for shop in shops:
        shop.stop()


@pytest.fixture
def import_command(settings: Any, database_url: str) -> Callable[..., Result]:
    """`companion import woocommerce` in this process, on the test database; embedded (no Redis)
    unless redis=True. The test's own runtime settings are restored afterwards."""

    def run(new_site: NewSite, shop: FakeShop, *extra: str, redis: bool = False) -> Result:
        env = {
            "COMPANION_DATABASE_URL": database_url,
            "COMPANION_SECRET_KEY": "test-secret-key-0123456789",
            "COMPANION_REDIS_URL": settings.redis_url if redis else None,
        }
        args = [
            "import",
            "woocommerce",
            "--site",
            new_site.site.public_id,
            "--url",
            shop.url,
            "--key",
            KEY,
            "--secret",
            SECRET,
            "--no-progress",
            *extra,
        ]
        try:
            return CliRunner().invoke(main, args, env=env, catch_exceptions=False)
        finally:
            runtime.configure(settings)

    return run
