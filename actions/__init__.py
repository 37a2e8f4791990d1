"""Rasa custom actions: read slots and entities, ask policy_db, reply with text, buttons and payload."""
