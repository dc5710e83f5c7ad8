"""Reading replay files from S3, streamed line by line."""

from __future__ import annotations

from collections.abc import Iterator


def read_s3_lines(uri: str) -> Iterator[bytes]:
    from groundswell.adapters.aws import client

    bucket, key = uri.removeprefix("s3://").split("/", 1)
    body = client("s3").get_object(Bucket=bucket, Key=key)["Body"]
    yield from body.iter_lines(keepends=True)
