"""Loading brand configs from YAML or JSON files, with errors that name the brand, the field and the problem."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from groundswell.adapters.http import HttpError, check_url
from groundswell.domain.models import Brand, MastodonSource, RssSource


class BrandConfigError(ValueError):
    pass


def describe(exc: ValidationError, name: str) -> str:
    lines = [f"brand {name!r} is not valid:"]
    for err in exc.errors():
        where = ".".join(str(p) for p in err["loc"] if not str(p).startswith("function-")) or "(top level)"
        lines.append(f"  - {where}: {err['msg'].removeprefix('Value error, ')}")
    return "\n".join(lines)


def parse_brands(data: Any, origin: str = "input") -> list[Brand]:
    """Brands from parsed YAML/JSON: one brand object, a list of them, or ``{"brands": [...]}``."""
    if isinstance(data, dict) and "brands" in data:
        data = data["brands"]
    items = data if isinstance(data, list) else [data]
    brands, errors = [], []
    for index, item in enumerate(items):
        name = item.get("name", f"#{index + 1}") if isinstance(item, dict) else f"#{index + 1}"
        try:
            brands.append(Brand.model_validate(item))
        except ValidationError as exc:
            errors.append(describe(exc, str(name)))
    if errors:
        raise BrandConfigError(f"{origin}:\n" + "\n".join(errors))
    insecure = [
        f"brand {b.name!r}: {url} is not https (only https is fetched: credentials and posts stay private)"
        for b in brands
        for url in _urls(b)
        if check_url_problem(url)
    ]
    if insecure:
        raise BrandConfigError(f"{origin}:\n" + "\n".join(insecure))
    names = [b.name for b in brands]
    repeated = sorted({n for n in names if names.count(n) > 1})
    if repeated:
        raise BrandConfigError(f"{origin}: brand names repeated: {', '.join(repeated)}")
    return brands


def _urls(brand: Brand) -> list[str]:
    urls: list[str] = []
    for source in brand.sources:
        if isinstance(source, MastodonSource):
            urls += [str(u) for u in source.servers]
        elif isinstance(source, RssSource):
            urls += [str(u) for u in source.feeds]
    return urls


def check_url_problem(url: str) -> str:
    """Why the HTTP client would refuse ``url`` (plain http off this machine), or ""."""
    try:
        check_url(url)
    except HttpError as exc:
        return str(exc)
    return ""


def load_brand_file(path: str | Path) -> list[Brand]:
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise BrandConfigError(f"cannot read {path}: {exc.strerror}") from None
    try:
        if path.suffix.lower() in (".yaml", ".yml"):
            import yaml

            data = yaml.safe_load(text)
        else:
            data = json.loads(text)
    except Exception as exc:
        raise BrandConfigError(f"{path} is not valid {path.suffix.lstrip('.').upper() or 'JSON'}: {exc}") from None
    return parse_brands(data, str(path))
