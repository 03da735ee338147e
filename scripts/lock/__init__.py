"""The lock command (`python -m scripts.lock`); the locking itself is `scripts.package.locks`."""
