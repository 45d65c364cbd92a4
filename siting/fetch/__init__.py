"""Data in from the agencies, provenance out: ``siting data`` and :func:`siting.fetch.fetch`.

The packaged catalog (``siting/data/catalog.yaml``, extendable with a user catalog) says where each
national dataset lives and how to ask for it; :func:`fetch` gets a state's or a box's part of each,
once, into a cache with a manifest of what was asked, when, how many features came and their hash.
A repeat fetch makes no request; everything works offline from the cache.

Examples
--------
>>> "padus_fee" in list_datasets()["dataset"].tolist()
True
"""

from siting.fetch.api import dataset_info, fetch, list_datasets

__all__ = ["dataset_info", "fetch", "list_datasets"]
