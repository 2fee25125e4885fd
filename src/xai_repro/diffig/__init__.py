"""The diffig study's science."""
