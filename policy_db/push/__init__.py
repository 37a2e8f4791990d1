"""Policies find the company: saved enterprise profiles, matching published changes to them, the
notification outbox and the worker that delivers each notification once.

- `profiles`: a company's profile, saved only with its consent, viewed, updated, deleted for real.
- `matching`: which profiles a change *newly* concerns (the conversation's matching: beneficiary
  tags, topics by category, the industry's words), once per distinct profile signature.
- `outbox`: `publish_change` writes a `PolicyChange` and its notifications in the caller's
  transaction; previews, the outbox's states and the per-change delivery report.
- `worker`: claims due notifications (PostgreSQL: `FOR UPDATE SKIP LOCKED`; a lease, so a dead
  worker's claims come back), keeps the per-company rate limit by merging into digests, delivers,
  retries with exponential backoff, gives up after the last attempt.
- `delivery`: the channels — the widget's inbox (stored = delivered) and WeChat template messages.
"""
