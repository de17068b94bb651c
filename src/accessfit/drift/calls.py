"""The IAM actions of the raw calls a drift run looks at, mapped once each: principals repeat the same calls."""

from __future__ import annotations

from accessfit.iam.catalog import Catalog
from accessfit.iam.mapping import Context, Mapping, map_call
from accessfit.model import ResourceRef


class CallMap:
    """`map_call` over one catalog, remembered per (call, resource, context). One per run: a run's calls are
    bounded by the index, and a new catalog must not meet an old answer."""

    def __init__(self, cat: Catalog) -> None:
        self.cat = cat
        self._seen: dict[tuple[str, str, ResourceRef, Context], Mapping] = {}

    def __call__(self, event_source: str, event_name: str, resource: ResourceRef, ctx: Context) -> Mapping:
        key = (event_source, event_name, resource, ctx)
        found = self._seen.get(key)
        if found is None:
            found = self._seen[key] = map_call(event_source, event_name, resource, ctx, self.cat)
        return found
