"""The pure maths of customer intelligence: numpy/scipy functions over arrays, no database.

bgnbd (repeat purchases, P(alive)), gammagamma (spend, predicted CLV), rfm, lifecycle (stages),
basket (bought together), forecast (demand, days of stock), anomalies (alerts), gate (the data
gate), numeric (shared helpers). Callers in companion.intelligence read the store and pass arrays
in.
"""
