"""A WooCommerce-shaped local shop per test, and a sink that records what the importer delivers."""

from __future__ import annotations

import datetime as dt
import ipaddress
import ssl
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from companion.woocommerce.importer import JsonFileCheckpoints, WooImporter
from tests.woocommerce.woo_fake_shop import KEY, SECRET, FakeShop
from tests.woocommerce.woo_sink import RecordingSink


@pytest.fixture
def start_shop() -> Iterator[Callable[..., FakeShop]]:
    shops: list[FakeShop] = []

    def start(data: dict[str, Any], *, ssl_context: Any = None, **options: Any) -> FakeShop:
        collections: dict[str, Any] = {
            k: data[k] for k in ("orders", "products", "customers") if k in data
        }
        shop = FakeShop(collections, data.get("refunds"), **options).start(ssl_context)
        shops.append(shop)
        return shop

    yield start
    for shop in shops:
        shop.stop()


@pytest.fixture
def sink() -> RecordingSink:
    return RecordingSink()


@pytest.fixture
def waits() -> list[float]:
    return []


@pytest.fixture
def importer_for(
    tmp_path: Path, sink: RecordingSink, waits: list[float]
) -> Callable[..., WooImporter]:
    """An importer with progress off, a checkpoint file in tmp_path and recorded (not slept)
    waits."""

    def build(shop: FakeShop, **options: Any) -> WooImporter:
        defaults: dict[str, Any] = {"progress": False, "sleep": waits.append, "backoff": 0.01}
        defaults.update(options)
        return WooImporter(
            shop.url,
            defaults.pop("key", KEY),
            defaults.pop("secret", SECRET),
            defaults.pop("sink", sink),
            JsonFileCheckpoints(tmp_path / "woo.json"),
            **defaults,
        )

    return build


@pytest.fixture(scope="session")
def tls(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """A self-signed certificate for 127.0.0.1: the server's SSL context and the file to trust."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(dt.datetime(2000, 1, 1, tzinfo=dt.UTC))
        .not_valid_after(dt.datetime(2100, 1, 1, tzinfo=dt.UTC))  # OpenSSL checks the real clock
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    folder = tmp_path_factory.mktemp("tls")
    cert_file, key_file = folder / "cert.pem", folder / "key.pem"
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert_file, key_file)
    return {"server": context, "ca_file": str(cert_file)}
