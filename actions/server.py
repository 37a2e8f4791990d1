"""The action server, reachable only by Rasa: rasa-sdk's app behind a shared secret.

rasa-sdk 3.6 runs any action for any tracker it is sent and has no authentication of its own.
Rasa sends the secret of `ACTION_SERVER_TOKEN` with every call (`token:` of the action endpoint
in endpoints.yml adds it as `?token=`); anything without it gets 403. The server binds to
loopback unless `ACTION_SERVER_HOST` says otherwise (the compose file's internal network).
`/health` stays open for health checks.

Run: `python -m actions.server --port 5055`.
"""

from __future__ import annotations

import argparse
import hmac
import logging
import os
import sys

from rasa_sdk.endpoint import create_app
from sanic import Sanic, response
from sanic.request import Request
from sanic.response import HTTPResponse

log = logging.getLogger(__name__)
OPEN_PATHS = ("/health",)


def guarded_app(secret: str) -> Sanic:
    """rasa-sdk's app whose webhook answers only requests carrying the shared secret."""
    app = create_app("actions", cors_origins=None)

    @app.middleware("request")
    async def require_secret(request: Request) -> HTTPResponse | None:
        if request.path in OPEN_PATHS:
            return None
        offered = request.args.get("token") or ""
        if not hmac.compare_digest(offered.encode(), secret.encode()):
            return response.json({"error": "forbidden: the action server answers only Rasa"}, status=403)
        return None

    return app


def main(argv: list[str] | None = None) -> None:
    """Start the guarded action server (refuses to start without a secret)."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, default=5055)
    args = parser.parse_args(argv)
    secret = os.environ.get("ACTION_SERVER_TOKEN", "")
    if len(secret) < 16:
        sys.exit(
            "ACTION_SERVER_TOKEN must be set (16 characters or more): Rasa sends it with every "
            "action call; `make run` generates one under var/secrets/"
        )
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s - %(message)s")
    host = os.environ.get("ACTION_SERVER_HOST", "127.0.0.1")
    log.info("action server on http://%s:%s (calls need the shared secret)", host, args.port)
    guarded_app(secret).run(host, args.port, workers=1, access_log=False)


if __name__ == "__main__":
    main()
