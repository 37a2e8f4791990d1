"""The web application: the one ASGI app with the policy API, the widget and the console pages."""
