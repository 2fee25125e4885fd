"""The cfrl study's science."""
