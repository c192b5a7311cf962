"""The JSON API at /api/v1/ (views), its token auth, idempotency and OpenAPI description."""
