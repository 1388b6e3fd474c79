"""Pure domain: models and rules. Nothing here performs I/O or reads the clock."""
