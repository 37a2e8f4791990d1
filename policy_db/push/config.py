"""Settings of policy notifications, from environment variables (PUSH_*, WECHAT_TEMPLATE_*)."""

from __future__ import annotations

import datetime as dt

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class PushSettings(BaseSettings):
    """How often a company may be notified, how the worker claims, retries and gives up."""

    model_config = SettingsConfigDict(env_file=None, extra="ignore")

    # At most this many deliveries per company in the window; more changes wait and go as one digest.
    push_rate_limit: int = Field(default=3, ge=1)
    push_rate_window_days: float = Field(default=7, gt=0)
    # K: attempts of one notification before it is marked failed (a worker's death counts as one).
    push_max_attempts: int = Field(default=5, ge=1)
    # The first retry waits this long, doubling with each attempt up to the maximum.
    push_retry_seconds: float = Field(default=60, ge=0)
    push_retry_max_seconds: float = Field(default=6 * 3600, ge=0)
    # A claimed notification is the worker's for this long; if it dies, another worker takes it after.
    push_lease_seconds: float = Field(default=300, gt=0)
    push_batch_size: int = Field(default=50, ge=1)
    push_poll_seconds: float = Field(default=5, gt=0)
    # The Official Account's template for policy notifications (first, keyword1, keyword2, remark)
    # and the page it opens; without the id, WeChat notifications wait in the outbox.
    wechat_template_id: str = ""
    wechat_template_url: str = ""

    @property
    def rate_window(self) -> dt.timedelta:
        """The rate limit's sliding window."""
        return dt.timedelta(days=self.push_rate_window_days)

    def retry_delay(self, attempts: int) -> dt.timedelta:
        """How long to wait after the `attempts`-th attempt failed (1 → the base delay)."""
        seconds = self.push_retry_seconds * 2 ** max(0, attempts - 1)
        return dt.timedelta(seconds=min(seconds, self.push_retry_max_seconds))
