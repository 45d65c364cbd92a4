"""``siting data``: the catalog of national datasets, fetching a state's or a box's part, and each entry.

Examples
--------
>>> from click.testing import CliRunner
>>> "padus_fee" in CliRunner().invoke(data, ["list"]).output
True
"""

from __future__ import annotations

import json

import click

__all__ = ["data"]

_CATALOG = click.option("--catalog", default=None, type=click.Path(dir_okay=False, exists=True),
                        help="A user catalog (YAML) adding or overriding datasets (default: $SITING_CATALOG).")


@click.group()
def data() -> None:
    """Get the national layers (PAD-US, BLM, MIRTA, MRDS, USMIN, HIFLD, NARN, TIGER, PLSS, 3DEP), cached."""


@data.command(name="list")
@_CATALOG
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of text.")
def list_command(catalog: str | None, as_json: bool) -> None:
    """Every dataset: publisher, protocol, licence, citation and typical size."""
    from siting.fetch import list_datasets

    table = list_datasets(catalog)
    if as_json:
        click.echo(table.to_json(orient="records", indent=2))
        return
    for row in table.itertuples(index=False):
        click.echo(f"{row.dataset}: {row.title}\n  {row.publisher}; {row.protocol}; {row.size}\n"
                   f"  licence: {row.licence}\n  cite: {row.citation}")


@data.command()
@click.argument("dataset")
@_CATALOG
def info(dataset: str, catalog: str | None) -> None:
    """Every field of DATASET's catalog entry: endpoint, protocol, where it came from, citation."""
    from siting.fetch import dataset_info

    click.echo(json.dumps(dataset_info(dataset, catalog), indent=2))


@data.command()
@click.argument("datasets", nargs=-1, required=True)
@click.option("--state", default=None, help="A state: USPS code (NV) or name (Nevada).")
@click.option("--bbox", default=None, metavar="W,S,E,N", help="A box in degrees.")
@click.option("--to", "to", default=None, type=click.Path(file_okay=False), help="Cache folder (default: user cache).")
@click.option("--refresh", is_flag=True, help="Fetch again even when the cache has the data.")
@_CATALOG
def fetch(datasets: tuple[str, ...], state: str | None, bbox: str | None, to: str | None, refresh: bool,
          catalog: str | None) -> None:
    """Fetch DATASETS for --state or --bbox into the cache (a repeat fetch makes no request)."""
    from siting.fetch import fetch as fetch_data
    from siting.fetch.client import Client

    client = Client()
    paths = fetch_data(list(datasets), state=state, bbox=bbox, to=to, refresh=refresh, catalog=catalog,
                       client=client)
    for name, path in paths.items():
        click.echo(f"{name}: {path}")
    click.echo(f"{client.requests} request(s)")
