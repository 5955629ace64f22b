"""Training batches from a SQL query with the wheel's loader (sen12lite.loader), numpy only; a
PyTorch DataLoader takes the same dataset (`DataLoader(ds, batch_size=32, num_workers=2)`).
After `make demo`, with the wheel installed (`pip install dist/sen12lite-*.whl`: any Python 3.9+):

    python examples/train_loader.py demo-data/catalog.db 2 8

(catalog, epochs, batch size). The query picks the clean 256 px S2 patches of the authors' grid;
each batch is one s12_batch call, scaled by the 2-98 % range the catalog pools over the query's
scenes, with the WorldCover map of each patch as its mask.
"""
import sys
import time

from sen12lite.loader import SqlPatchDataset

# The catalog's patch grid, which the ingest kept: the query reads no raster.
PATCHES = "SELECT scene_id, col, row FROM patches WHERE cloud_fraction <= 0.001 AND nodata_fraction = 0"


def main():
    catalog = sys.argv[1]
    epochs = int(sys.argv[2]) if len(sys.argv) > 2 else 2
    batch_size = int(sys.argv[3]) if len(sys.argv) > 3 else 16
    ds = SqlPatchDataset(catalog, PATCHES, "s2", "B4,B3,B2,B8", size=256, normalize="p02_p98", mask=("worldcover", 1))
    start, count = time.perf_counter(), 0
    for epoch in range(epochs):
        for batch in ds.batches(batch_size, epoch=epoch, seed=0):
            count += len(batch["image"])
    seconds = time.perf_counter() - start
    print(f"{count} patches in {seconds:.2f} s: {count / seconds:.1f} patches/s over {epochs} epochs of {len(ds)}")


if __name__ == "__main__":
    main()
