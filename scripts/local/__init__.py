"""The local stack: `python -m scripts.local` deploys to an embedded moto and serves the API
through `gateway`, a stand-in for API Gateway read from the template."""
