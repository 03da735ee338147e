"""Packaging: the functions' zips (bytecode, bundled dependencies, trimmed botocore models),
their uploads to S3, and the dependency locks; `python -m scripts.package` is its command."""
