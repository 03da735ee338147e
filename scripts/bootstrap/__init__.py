"""The bootstrap command (`python -m scripts.bootstrap`); the library is `scripts.deploy.bootstrap`."""
