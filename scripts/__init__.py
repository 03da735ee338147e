"""Command-line scripts: package, bootstrap, deploy, local (each runs as `python -m scripts.NAME`)."""
