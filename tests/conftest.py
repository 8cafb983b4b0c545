from hypothesis import settings

pytest_plugins = [
    "tests.fixtures.infra",
    "tests.fixtures.pipeline",
    "tests.fixtures.redis_cluster",
    "tests.fixtures.pgbouncer",
]

# Deterministic examples in CI; no per-example deadline (the machine is shared and a
# first-call warm-up must not read as a failure).
settings.register_profile("satyamark", deadline=None, derandomize=True)
settings.load_profile("satyamark")
