"""Settings for bench/meta_webhooks.py's server: Parley's own, plus one trivial view that
answers 200 (the floor the webhook is measured beside). Bench only."""

from parley.settings import *  # noqa: F403

ROOT_URLCONF = "bench.meta_floor_urls"
