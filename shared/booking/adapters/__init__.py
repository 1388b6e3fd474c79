"""Adapters: the only code that talks to AWS (or to the local stand-ins for it)."""
