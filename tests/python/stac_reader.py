"""Reads a stac-geoparquet file as the STAC tools do, for test_export_stac.py (run by build/stac's
Python, which has them): stac-geoparquet turns the rows back into item dicts, pystac into Items
and back, and every item and collection is checked against the STAC 1.1.0 JSON schemas shipped in
pystac's package, with jsonschema and no network. Prints a JSON report on stdout."""
import json
import sys

import pyarrow.parquet as pq
import pystac
import stac_geoparquet
from jsonschema import Draft7Validator
from pystac.validation.local_validator import get_local_schema_cache
from referencing import Registry, Resource


def no_network(uri):
    raise LookupError(f"{uri} is not among the packaged schemas (no network)")


def validator(kind):
    schemas = get_local_schema_cache()
    registry = Registry(retrieve=no_network).with_resources(
        (uri, Resource.from_contents(schema)) for uri, schema in schemas.items())
    uri = f"https://schemas.stacspec.org/v{pystac.get_stac_version()}/{kind}-spec/json-schema/{kind}.json"
    return Draft7Validator(schemas[uri], registry=registry)


def main(path):
    table = pq.read_table(path)
    items = list(stac_geoparquet.arrow.stac_table_to_items(table))
    item_schema, collection_schema = validator("item"), validator("collection")
    metadata = json.loads(pq.read_metadata(path).metadata[b"stac-geoparquet"])
    report = {
        "items": items,
        "pystac": [pystac.Item.from_dict(item).to_dict(include_self_link=False, transform_hrefs=False)
                   for item in items],
        "item_errors": [f"{item['id']}: {error.message}" for item in items
                        for error in item_schema.iter_errors(item)],
        "collections": metadata["collections"],
        "collection_errors": [f"{name}: {error.message}" for name, collection in metadata["collections"].items()
                              for error in collection_schema.iter_errors(collection)],
    }
    json.dump(report, sys.stdout, default=str)


if __name__ == "__main__":
    main(sys.argv[1])
