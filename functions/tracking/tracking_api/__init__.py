"""Domain code of the tracking API Lambda (packaged at the zip's root beside handler.py)."""
