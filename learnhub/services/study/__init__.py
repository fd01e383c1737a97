"""Studying: materials and reading, practice, and the mistake book."""
