"""Mention sources: one module per source, all behind :class:`groundswell.domain.sources.Source`."""
