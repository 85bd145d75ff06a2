"""Customer intelligence: RFM, lifecycle stages, predictions, product pairs, demand and alerts.

`maths/` holds the pure functions over arrays (no database). The modules here read the store,
call them and write the results back: summary (one row per customer), scoring and writeback (the
nightly refresh and re-scoring after a batch, `refresh`), stage_groups, recommendations, segments,
demand, alerts and alert_mail.
"""
