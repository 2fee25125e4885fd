"""The duffing study's science."""
