"""What the owner sees on each page, from events sent the way the plugin sends them."""

from __future__ import annotations

import csv
import io
import random
import re
from datetime import datetime
from html import unescape

from companion import metrics
from companion.dashboard import figures, overview
from companion.dashboard.customers import at_risk, top_by_net
from companion.dashboard.definitions import HEADLINE
from companion.dashboard.pages import BUILDERS, TABLES
from companion.dashboard.periods import preset_period, today_in
from companion.dashboard.tables import Table, col, to_csv
from companion.intelligence.refresh import refresh_site
from companion.models import Contact, Site, utcnow
from companion.models.intelligence import StageGroup
from tests.dashboard.session import csrf_of, day, sign_in
from tests.factories import order
from tests.helpers import post_events, run_jobs


def text_of(client, path: str) -> str:
    answer = client.get(path)
    assert answer.status_code == 200, answer.get_data(as_text=True)[:500]
    return re.sub(r"\s+", " ", unescape(answer.get_data(as_text=True)))


def test_a_brand_new_site_explains_how_to_connect_the_plugin_instead_of_showing_zeros(client, site):
    sign_in(client, site)
    for page in ("/", "/customers", "/products"):
        html = text_of(client, f"/dashboard/{site.site.public_id}{page}")
        assert "Connect Shop to start" in html
        assert site.site.public_id in html and "Sync history" in html
        assert "http://companion.test/v1/sites/" in html  # where WooCommerce webhooks would point
        assert "data-card" not in html and "0.00 EUR" not in html


def test_the_overview_shows_revenue_refunds_and_orders_of_the_period(client, shop):
    sign_in(client, shop)
    html = text_of(client, f"/dashboard/{shop.site.public_id}/?range=30d")
    card = re.search(r'data-card="total_revenue".*?data-value>([^<]+)<.*?class="unit">(\w+)<', html)
    assert card.groups() == ("100.00", "EUR")  # orders 1 and 2; order 3 is 40 days old
    net = re.search(r'data-card="net_revenue".*?data-value>([^<]+)<', html).group(1)
    assert net == "40.00"  # the 60.00 refund
    assert re.search(r'data-card="orders".*?data-value>2<', html)
    assert 'data-funnel="sessions">3<' in html and 'data-funnel="orders">2<' in html


def test_a_shop_without_page_views_yet_is_told_what_arrived_and_since_when(client, site):
    # Orders arrive, no page view yet: the tracker may well be on in a shop nobody has browsed.
    Site.update(created_at=datetime(2026, 10, 1, 12, 0)).where(Site.id == site.site.id).execute()
    post_events(
        client, site, [order(1, total="40.00", created=day(3), paid=day(3), modified=day(3))]
    )
    run_jobs()
    sign_in(client, site)
    html = text_of(client, f"/dashboard/{site.site.public_id}/?range=30d")
    assert "tracker not installed" not in html and "Turn on the tracker" not in html
    assert (
        "No page views have arrived since this store was connected on 2026-10-01, though 1 order "
        "did" in html
    )


def test_the_date_range_changes_the_numbers(client, shop):
    sign_in(client, shop)
    base = f"/dashboard/{shop.site.public_id}/"
    month = text_of(client, base + "?range=30d")
    quarter = text_of(client, base + "?range=90d")
    value = re.compile(r'data-card="orders".*?data-value>([^<]+)<')
    assert value.search(month).group(1) == "2" and value.search(quarter).group(1) == "3"
    assert "compared with" in month and "compared with" not in text_of(
        client, base + "?range=30d&compare=none"
    )


def test_a_custom_range_is_read_and_a_nonsense_one_falls_back_to_the_last_30_days(client, shop):
    sign_in(client, shop)
    base = f"/dashboard/{shop.site.public_id}/"
    custom = text_of(client, base + "?range=custom&from=2026-01-01&to=2026-01-31")
    assert "01 Jan 2026 – 31 Jan 2026" in custom
    assert "Last 30 days" in text_of(client, base + "?range=custom&from=yesterday&to=%00")


def test_csv_export_holds_the_rows_the_table_shows(client, shop):
    sign_in(client, shop)
    html = text_of(client, f"/dashboard/{shop.site.public_id}/products?range=30d")
    answer = client.get(f"/dashboard/{shop.site.public_id}/export/top_revenue.csv?range=30d")
    assert answer.mimetype == "text/csv" and "attachment" in answer.headers["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(answer.get_data(as_text=True))))
    assert rows[0] == ["Product", "Units", "Orders", "Revenue"]
    assert sorted(rows[1:]) == [["Kettle", "1", "1", "60.00"], ["Mug", "1", "1", "40.00"]]
    table = html[html.index('data-table="top_revenue"') :]
    assert table.index("Kettle") < table.index("Mug")  # by revenue, largest first


def test_csv_cells_cannot_smuggle_a_spreadsheet_formula():
    table = Table(
        "t",
        "T",
        [col("name", "Name"), col("n", "N", "money")],
        [{"name": '=HYPERLINK("http://x")', "n": "-5"}, {"name": "-1", "n": "2"}],
    )
    rows = list(csv.reader(io.StringIO(to_csv(table))))
    assert rows[1:] == [['\'=HYPERLINK("http://x")', "-5.00"], ["-1", "2.00"]]


def test_an_unknown_export_is_404(client, shop):
    sign_in(client, shop)
    assert client.get(f"/dashboard/{shop.site.public_id}/export/everything.csv").status_code == 404


def test_the_contact_page_tells_the_customers_story_newest_first(client, shop):
    sign_in(client, shop)
    ann = Contact.get(Contact.email == "ann@example.com")
    html = text_of(client, f"/dashboard/{shop.site.public_id}/contacts/{ann.id}")
    kinds = re.findall(r'data-kind="(\w+)"', html)
    assert (
        kinds[0] == "refund" and kinds.count("order") == 2 and "cart" in kinds and "visit" in kinds
    )
    assert "Refund on order #2" in html and "60.00 EUR" in html
    assert "Predictions need at least 500 customers" in html  # said plainly, not a blank


def test_another_sites_contact_is_404(client, shop, other_site):
    ann = Contact.get(Contact.email == "ann@example.com")
    sign_in(client, other_site)
    assert (
        client.get(f"/dashboard/{other_site.site.public_id}/contacts/{ann.id}").status_code == 404
    )


def unscored(site) -> None:
    """As before the intelligence refresh has run for this site."""
    Contact.update(
        stage=None,
        rfm_segment=None,
        rfm_r=None,
        rfm_f=None,
        rfm_m=None,
        p_alive=None,
        predicted_clv_365=None,
    ).where(Contact.site == site.site.id).execute()
    StageGroup.delete().where(StageGroup.site == site.site.id).execute()


def test_customers_page_says_what_is_not_set_up_yet(client, shop):
    unscored(shop)
    sign_in(client, shop)
    html = text_of(client, f"/dashboard/{shop.site.public_id}/customers")
    assert "Stages are not set yet" in html and "intelligence refresh" in html
    top = html[html.index('data-table="top_customers"') :]
    clv = re.findall(r"<td class=\"num\">(\d+\.\d\d)</td>", top)
    assert clv[:2] == ["40.00", "25.00"]  # Ann: 100 spent, 60 refunded; Bo: 25 -- by net value


def test_a_flow_can_be_switched_off_and_on_with_the_forms_csrf_token(client, shop):
    sign_in(client, shop)
    page = f"/dashboard/{shop.site.public_id}/flows"
    target = f"/dashboard/{shop.site.public_id}/flows/win_back"
    assert client.post(target, data={"enabled": "0"}).status_code == 400
    assert (
        client.post(target, data={"enabled": "0", "csrf_token": csrf_of(client, page)}).status_code
        == 303
    )
    html = text_of(client, page)
    assert re.search(r'data-flow="win_back".*?badge off', html)
    assert (
        client.post(
            f"/dashboard/{shop.site.public_id}/flows/no_such_flow",
            data={"enabled": "0", "csrf_token": csrf_of(client, page)},
        ).status_code
        == 404
    )


def test_an_open_revenue_drop_is_shown_at_the_top_with_what_to_do(client, site):
    steady = [
        order(n, total="100.00", created=day(n, 12), paid=day(n, 12), modified=day(n, 12))
        for n in range(4, 60)
    ]  # every day for eight weeks, then nothing for the last three days
    assert post_events(client, site, steady).status_code == 202
    run_jobs()
    sign_in(client, site)
    html = text_of(client, f"/dashboard/{site.site.public_id}/")
    alert = re.search(
        r'<div class="alert danger" role="alert" data-alert> (.*?)</div>', html
    ).group(1)
    assert "Revenue is down" in alert and "What to do: Check checkout and payments" in alert
    assert "0.00 EUR a day against a usual 100.00 EUR" in alert
    assert "No open alerts" not in html


def test_customers_can_be_found_by_email_or_name(client, shop):
    sign_in(client, shop)
    html = text_of(client, f"/dashboard/{shop.site.public_id}/contacts?q=bo%40")
    assert "bo@example.com" in html and "ann@example.com" not in html
    assert "No customer's email or name contains" in text_of(
        client, f"/dashboard/{shop.site.public_id}/contacts?q=zz"
    )


def test_card_sparklines_are_the_daily_series_the_metrics_api_answers(shop):
    period = preset_period("30d", today_in(shop.site.timezone))
    lines = figures.sparklines(shop.site, period, [m.key for m in HEADLINE])
    for metric in HEADLINE:
        points = metrics.series(shop.site, metric.key, "day", period.first, period.last)["points"]
        assert lines[metric.key] == [
            None if p["value"] is None else float(p["value"]) for p in points
        ], metric.key


def test_top_customers_by_net_value_are_exact_even_when_a_big_spender_refunded_most(db, site):
    rng = random.Random(3)
    for n in range(60):
        spent = rng.randint(1, 1000)
        Contact.create(
            site=site.site.id,
            email=f"c{n}@example.com",
            orders_count=1,
            total_spent=spent,
            refunded=rng.choice((0, 0, spent, rng.randint(0, spent))),
        )
    everyone = sorted(Contact.select(), key=lambda c: (-(c.total_spent - c.refunded), c.id))
    assert [c.id for c in top_by_net(site.site, top=7, page=4)] == [c.id for c in everyone[:7]]


def test_stage_counts_are_those_of_the_last_refresh_and_the_page_says_when(client, shop):
    unscored(shop)
    sign_in(client, shop)
    page = f"/dashboard/{shop.site.public_id}/customers"
    assert "Stages are not set yet" in text_of(client, page)
    Contact.update(stage="repeat").where(Contact.site == shop.site.id).execute()
    assert "Stages are not set yet" in text_of(
        client, page
    )  # counts are written by a refresh, not per request
    refresh_site(shop.site, utcnow())  # as the nightly job would
    stages = text_of(client, page)
    assert "as of the last intelligence refresh" in stages
    for stage in ("lead", "vip", "churned", "repeat"):
        counted = (
            Contact.select().where(Contact.site == shop.site.id, Contact.stage == stage).count()
        )
        label = stage.replace("_", " ").capitalize()
        assert re.search(rf'scope="row">{label}</th> <td class="num">{counted}<', stages), stage


def test_the_cards_show_what_the_metrics_api_answers_for_the_period_and_the_one_before(shop):
    """Alone, and on the overview, which reads the daily roll-ups once for the cards, the chart,
    the funnel and the alerts (a wider span than the cards': days the cumulative figures already
    hold from before it)."""
    today = today_in(shop.site.timezone)
    for preset in ("7d", "30d", "90d"):
        period = preset_period(preset, today)
        answer = metrics.headline(shop.site, period.first, period.last, compare=True)["metrics"]
        page = BUILDERS["overview"](shop.site, period, today)
        alone = figures.headline(shop.site, period)
        assert [c["spark"] for c in page["cards"]] == [c["spark"] for c in alone]
        assert page["revenue"] == figures.revenue_series(shop.site, period)
        assert page["alerts"] == overview.alerts(shop.site, today)
        for card in [*alone, *page["cards"]]:
            expected = answer[card["metric"].key]
            assert (card["value"], card["previous"]) == (expected["value"], expected["previous"]), (
                card["metric"].key
            )
            change = expected["change_percent"]
            assert card["change"] == (None if change is None else change / 100)


def test_at_risk_customers_are_listed_by_predicted_value_with_unknown_predictions_last(db, site):
    for email, predicted in (
        ("low@example.com", "10"),
        ("unknown@example.com", None),
        ("high@example.com", "50"),
    ):
        Contact.create(
            site=site.site.id,
            email=email,
            stage="at_risk",
            orders_count=1,
            total_spent=20,
            predicted_clv_365=predicted,
        )
    assert [r["email"] for r in at_risk(site.site).rows] == [
        "high@example.com",
        "low@example.com",
        "unknown@example.com",
    ]


def test_every_export_writes_exactly_the_table_its_page_shows(client, shop):
    """An export builds only its own table (not the page's others: the products page's pairs and
    forecast cost more than its top sellers), with the page's own functions."""
    sign_in(client, shop)
    site, today = Site.get_by_id(shop.site.id), today_in(shop.site.timezone)
    period = preset_period("90d", today)
    for name, build in BUILDERS.items():
        for key, table in build(site, period, today)["tables"].items():
            answer = client.get(f"/dashboard/{site.public_id}/export/{key}.csv?range=90d")
            assert answer.status_code == 200, (name, key)
            assert answer.is_streamed, key
            assert answer.get_data(as_text=True) == to_csv(table), key
            assert table.rows or key not in ("top_revenue", "top_units", "channels"), key
    assert set(TABLES) == {
        key for name, build in BUILDERS.items() for key in build(site, period, today)["tables"]
    }
