"""The embedded default: moto's server on 127.0.0.1, provisioned from template.yaml, and the functions'
environment pointed at it through the standard ``AWS_ENDPOINT_URL`` (no special case in the functions)."""

from __future__ import annotations

import logging
import os
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from infra.moto_patches import patch_moto_transactions
from infra.template_resources import Provisioned, provision

LOCAL_ENV = {
    "AWS_ACCESS_KEY_ID": "local",
    "AWS_SECRET_ACCESS_KEY": "local",
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_REGION": "us-east-1",
    "POWERTOOLS_SERVICE_NAME": "groundswell",
    "POWERTOOLS_METRICS_NAMESPACE": "Groundswell",
}


@contextmanager
def local_stack() -> Iterator[tuple[Provisioned, Any]]:
    """Starts moto on a free loopback port, provisions the template, yields (resources, boto3 session)."""
    import boto3
    from moto.server import ThreadedMotoServer

    from groundswell import runtime
    from groundswell.adapters.aws import reset_clients
    from groundswell.config import settings

    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # the emulator's request log
    patch_moto_transactions()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    # moto's backends live in this process: start from an empty account even if a stack ran here before
    urllib.request.urlopen(urllib.request.Request(f"http://{host}:{port}/moto-api/reset", method="POST"))
    saved = dict(os.environ)
    os.environ.update(LOCAL_ENV, AWS_ENDPOINT_URL=f"http://{host}:{port}")
    try:
        session = boto3.Session()
        resources = provision(session)
        os.environ.update(resources.environment())
        for cached in (
            settings,
            reset_clients,
            runtime.store,
            runtime.scorer,
            runtime.source,
            runtime.notifier,
        ):
            getattr(cached, "cache_clear", cached)()
        yield resources, session
    finally:
        os.environ.clear()
        os.environ.update(saved)
        reset_clients()
        for cached in (settings, runtime.store, runtime.source, runtime.notifier):
            cached.cache_clear()
        server.stop()
