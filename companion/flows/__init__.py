"""Revenue flows (DESIGN 6): triggers enrol contacts, scheduled steps fall due, the sender mails
them.

definitions  the eight built-in flows and their defaults
config       a site's settings merged over those defaults
enrolment    enrol and exit, idempotently
triggers     enrolments and exits from applied events (pipeline.AFTER_APPLY)
scans        enrolments from the minute's scans (newly abandoned carts, expiring subscriptions)
lifecycle    enrolments from the hourly scans (win-back, VIP, replenishment)
replenishment  reorder intervals, the owner's consumable/never marks, one reminder per contact
backlog      a scanned flow's first start: who qualified before it waits for the owner's release
rules        suppression, consent, frequency cap, quiet hours, smart sending
content      what each flow's template is given, and whether an enrolment still makes sense
sending      claim due steps, check and render them, record the intents
delivery     hand intents to SendGrid, record its answers, retry what it deferred
settlement   provider events, and sends a worker could not finish
tracking     opens, clicks, unsubscribes
reports      per-flow figures and the outbox
tick         what the scheduler's job runs every minute
"""
