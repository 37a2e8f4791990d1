"""Admin writes to the catalogue: validated, audited, and bumping the catalogue revision.

Every function here runs inside the caller's transaction; the caller commits (or rolls
back on an error, so a rejected write leaves nothing behind — not even its audit entry).
"""
