"""The HTTP routes, one module per audience and resource; routes call services, never each other."""
