"""Domain code of the status-notification Lambda (packaged at the zip's root beside handler.py)."""
