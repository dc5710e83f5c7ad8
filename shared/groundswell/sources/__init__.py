"""Mention sources: one module per source, all behind :class:`groundswell.sources.base.Source`."""
