"""What GDAL does with a file list in one process, for make bench's baselines: `decode` (every pixel
of every band, a tile row of all bands at a time into one reused buffer: GDAL's fastest way through
a file here; a whole-file ReadRaster allocates the file's size and was 20-30 % slower) or
`statistics` (ComputeStatistics of every band). As a command: the mode as argument, the file names
on standard input."""
import sys

from osgeo import gdal

gdal.UseExceptions()


def decode(paths):
    for path in paths:
        ds = gdal.Open(path)
        w, h, n = ds.RasterXSize, ds.RasterYSize, ds.RasterCount
        rows = ds.GetRasterBand(1).GetBlockSize()[1]
        size = gdal.GetDataTypeSize(ds.GetRasterBand(1).DataType) // 8
        buf = bytearray(w * rows * n * size)
        for y in range(0, h, rows):
            r = min(rows, h - y)
            ds.ReadRaster(0, y, w, r, buf_obj=memoryview(buf)[:w * r * n * size])


def statistics(paths):
    for path in paths:
        ds = gdal.Open(path)
        for i in range(1, ds.RasterCount + 1):
            ds.GetRasterBand(i).ComputeStatistics(False)


if __name__ == "__main__":
    {"decode": decode, "statistics": statistics}[sys.argv[1]]([p for p in sys.stdin.read().split("\n") if p])
