"""Property: whatever a signed WooCommerce delivery carries, the answer is a JSON 2xx/4xx, never a
500."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.woocommerce.service.webhooks import deliver
from tests.woocommerce.woo_data import documented_order

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4)
    ),
    max_leaves=20,
)
order_keys = st.sampled_from(
    [
        "id",
        "status",
        "currency",
        "total",
        "total_tax",
        "line_items",
        "refunds",
        "billing",
        "customer_id",
        "date_created_gmt",
        "date_modified_gmt",
        "date_paid_gmt",
        "meta_data",
        "coupon_lines",
        "parent_id",
        "number",
    ]
)
topics = st.sampled_from(
    [
        "order.created",
        "order.updated",
        "order.deleted",
        "order.restored",
        "product.updated",
        "customer.updated",
        "coupon.created",
        "ORDER.UPDATED",
        "x",
    ]
)


@settings(
    max_examples=120, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(topic=topics, key=order_keys, value=json_values)
def test_any_mutated_order_body_gets_a_json_2xx_or_4xx(client, woo_site, topic, key, value):
    body = documented_order()
    body[key] = value

    answer = deliver(client, woo_site, topic, body)

    assert answer.status_code in (200, 202, 400, 422), answer.json
    assert answer.is_json


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(topic=topics, payload=json_values)
def test_any_json_body_gets_a_json_2xx_or_4xx(client, woo_site, topic, payload):
    answer = deliver(client, woo_site, topic, payload)  # type: ignore[arg-type]

    assert 200 <= answer.status_code < 500 and answer.is_json
