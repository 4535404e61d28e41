"""The TLS redis-server fixture lives with the other private Redis servers."""

from tests.servers.redis import tls_redis_server  # noqa: F401 - a fixture, used by name
