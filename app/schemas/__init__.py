"""Request and response bodies of the HTTP API (built from the data layer's views)."""
