"""The highway study's science."""
