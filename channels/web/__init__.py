"""The web widget and the app as served (policy API + widget static files)."""
