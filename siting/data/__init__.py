"""``siting.data``: the packaged data files, and fetching the national ones (see :mod:`siting.fetch`).

Examples
--------
>>> from siting import data
>>> data.fetch is fetch and "mrds" in data.list_datasets()["dataset"].tolist()
True
"""

from siting.fetch import dataset_info, fetch, list_datasets

__all__ = ["dataset_info", "fetch", "list_datasets"]
