//! STAC items as stac-geoparquet 1.0: one item per scene, a row each, in a GeoParquet 1.1 file —
//! the item's top-level fields as columns (`bbox` as GeoParquet's covering struct, `assets` a
//! struct of one asset per modality), its properties as columns of their own, and the STAC
//! Collection of each dataset in the file's `stac-geoparquet` metadata.
//!
//! Items are STAC 1.1.0 with the eo (v1.1.0), sar (v1.0.0) and projection (v2.0.0: `proj:code`,
//! which replaced `proj:epsg`, and to which pystac migrates the older field) extensions:
//! `datetime` is the S2 acquisition (else the S1 one), `start_datetime`/`end_datetime` span the
//! scene's acquisitions (the season folder's window for SEN12MS, which gives no times),
//! `eo:cloud_cover` is the catalog's cloud fraction in percent, and every catalog attribute the
//! STAC fields do not carry is an `s12:` property — `s12:dataset` among them, in place of STAC's
//! `collection` field, which the item schema allows only beside a link to the collection's JSON
//! file (the collections are in the file's metadata instead, under their dataset's name).

use super::geoparquet::{bbox_field, cell_of, crs84_projjson, footprint, geo_metadata, Extent};
use super::nested::{Cell, Field, NestedWriter, Shape};
use super::scenes::{Kind, SceneQuery};
use super::ExportError;
use crate::catalog::meta_get;
use crate::catalog::read::modality_names;
use crate::layout::{sen12ms::triplet_day_window, Dataset, Modality};
use rusqlite::Connection;
use std::collections::BTreeMap;
use std::fs::File;

const STAC_VERSION: &str = "1.1.0";
const EXTENSIONS: [&str; 3] = [
    "https://stac-extensions.github.io/eo/v1.1.0/schema.json",
    "https://stac-extensions.github.io/sar/v1.0.0/schema.json",
    "https://stac-extensions.github.io/projection/v2.0.0/schema.json",
];
const GEOTIFF: &str = "image/tiff; application=geotiff";
const MILLIS_PER_DAY: f64 = 86_400_000.0;

/// Sentinel-2 MSI bands: (name, STAC common name, centre wavelength in µm).
const S2_BANDS: [(&str, &str, f64); 13] = [
    ("B1", "coastal", 0.443),
    ("B2", "blue", 0.490),
    ("B3", "green", 0.560),
    ("B4", "red", 0.665),
    ("B5", "rededge", 0.705),
    ("B6", "rededge", 0.740),
    ("B7", "rededge", 0.783),
    ("B8", "nir", 0.842),
    ("B8A", "nir08", 0.865),
    ("B9", "nir09", 0.945),
    ("B10", "cirrus", 1.375),
    ("B11", "swir16", 1.610),
    ("B12", "swir22", 2.190),
];

/// The catalog attributes that STAC's own fields carry (the rest become `s12:` properties).
const CARRIED: [&str; 4] = ["name", "s1_time", "s2_time", "cloud_fraction"];

/// What an asset's bands are described with.
#[derive(Clone, Copy, PartialEq)]
enum Bands {
    /// `eo:bands`: Sentinel-2.
    Optical,
    /// `sar:polarizations`: Sentinel-1.
    Radar,
    /// Nothing beyond the projection.
    Other,
}

fn bands_of(modality: &str) -> Bands {
    match Modality::from_name(modality) {
        Some(Modality::S2 | Modality::S2Cloudy) => Bands::Optical,
        Some(Modality::S1) => Bands::Radar,
        _ => Bands::Other,
    }
}

/// An asset's title: what the file holds.
fn title_of(modality: &str) -> String {
    match Modality::from_name(modality) {
        Some(Modality::S1) => "Sentinel-1 GRD backscatter".into(),
        Some(Modality::S2) => "Sentinel-2 reflectance".into(),
        Some(Modality::S2Cloudy) => "Sentinel-2 reflectance, cloudy acquisition".into(),
        Some(Modality::Dsm | Modality::Dem) => "Digital surface model".into(),
        Some(Modality::Worldcover) => "ESA WorldCover land cover".into(),
        Some(Modality::Lc) => "MODIS land cover (IGBP, LCCS)".into(),
        None => format!("{modality} raster"),
    }
}

fn list_of(shape: Shape) -> Shape {
    Shape::List(Box::new(Field::required("element", shape)))
}

/// The asset of a modality's file: href, media type, title, roles, projection, bands.
fn asset_field(modality: &str) -> Field {
    let mut fields = vec![
        Field::required("href", Shape::Text),
        Field::required("type", Shape::Text),
        Field::required("title", Shape::Text),
        Field::required("roles", list_of(Shape::Text)),
        Field::optional("proj:code", Shape::Text),
        Field::optional("proj:shape", list_of(Shape::Int64)),
        Field::optional("proj:transform", list_of(Shape::Double)),
    ];
    match bands_of(modality) {
        Bands::Optical => {
            let band = Shape::Struct(vec![
                Field::required("name", Shape::Text),
                Field::optional("common_name", Shape::Text),
                Field::optional("center_wavelength", Shape::Double),
            ]);
            fields.push(Field::required("eo:bands", list_of(band)));
        }
        Bands::Radar => fields.push(Field::required("sar:polarizations", list_of(Shape::Text))),
        Bands::Other => {}
    }
    Field::optional(modality, Shape::Struct(fields))
}

/// The item's columns: STAC's top-level fields, then its properties.
fn item_fields(query: &SceneQuery, modalities: &[String]) -> Vec<Field> {
    let link = Shape::Struct(vec![Field::required("rel", Shape::Text), Field::required("href", Shape::Text)]);
    let mut fields = vec![
        Field::required("type", Shape::Text),
        Field::required("stac_version", Shape::Text),
        Field::required("stac_extensions", list_of(Shape::Text)),
        Field::required("id", Shape::Text),
        Field::required("geometry", Shape::Binary),
        bbox_field(false),
        Field::required("links", list_of(link)),
        Field::required("assets", Shape::Struct(modalities.iter().map(|m| asset_field(m)).collect())),
        Field::optional("datetime", Shape::Timestamp),
        Field::required("start_datetime", Shape::Timestamp),
        Field::required("end_datetime", Shape::Timestamp),
        Field::optional("eo:cloud_cover", Shape::Double),
        Field::required("sar:instrument_mode", Shape::Text),
        Field::required("sar:frequency_band", Shape::Text),
        Field::required("sar:product_type", Shape::Text),
        Field::required("sar:polarizations", list_of(Shape::Text)),
    ];
    fields
        .extend(own_properties(query).map(|(_, name, kind)| Field::optional(&name, super::geoparquet::shape_of(kind))));
    fields
}

/// (query column, property name, kind) of the catalog attributes that become `s12:` properties.
fn own_properties(query: &SceneQuery) -> impl Iterator<Item = (usize, String, Kind)> + '_ {
    query
        .columns
        .iter()
        .enumerate()
        .filter(|(_, c)| !CARRIED.contains(&c.name.as_str()) && !c.name.ends_with("_href"))
        .map(|(i, c)| (i, format!("s12:{}", c.name), c.kind))
}

/// A dataset's spatial and temporal extent, for its Collection.
struct CollectionExtent {
    space: Extent,
    first: i64,
    last: i64,
}

/// Writes one STAC item per scene of `query` to `out`; the number of items written.
pub fn write(conn: &Connection, query: &SceneQuery, out: File) -> Result<u64, ExportError> {
    // The assets' struct members, in name order.
    let modalities = modality_names(conn)?;
    let data_root = meta_get(conn, "data_root")?.unwrap_or_default();
    let mut writer = NestedWriter::new(out, item_fields(query, &modalities))?;
    let mut files =
        conn.prepare("SELECT modality, path, epsg, width, height, geotransform FROM files WHERE scene_id = ?1")?;
    let index = |name: &str| query.columns.iter().position(|c| c.name == name).expect("an exported column");
    let (id_at, dataset_at, name_at) = (index("scene_id"), index("dataset"), index("name"));
    let (s1_at, s2_at, cloud_at) = (index("s1_time"), index("s2_time"), index("cloud_fraction"));
    let mut extent = Extent::empty();
    let mut collections: BTreeMap<String, CollectionExtent> = BTreeMap::new();
    let mut statement = conn.prepare(&query.sql)?;
    let mut cursor = statement.query([])?;
    while let Some(row) = cursor.next()? {
        let name: String = row.get(name_at)?;
        let dataset: String = row.get(dataset_at)?;
        let (geometry, bbox) = footprint(row, query.columns.len())?;
        let bbox = bbox.ok_or_else(|| {
            ExportError::Request(format!(
                "scene {name} has no footprint, and a STAC item needs one (--where \"geom IS NOT NULL\")"
            ))
        })?;
        let times: Vec<i64> =
            [s1_at, s2_at].iter().filter_map(|&at| row.get::<_, Option<i64>>(at).ok().flatten()).collect();
        let (start, end) = match (times.iter().min(), times.iter().max()) {
            (Some(&first), Some(&last)) => (first, last),
            _ => season_window(&name)?,
        };
        extent.add(bbox);
        let collection = collections.entry(dataset.clone()).or_insert(CollectionExtent {
            space: Extent::empty(),
            first: start,
            last: end,
        });
        collection.space.add(bbox);
        (collection.first, collection.last) = (collection.first.min(start), collection.last.max(end));
        let scene_id: i64 = row.get(id_at)?;
        let assets = assets(&mut files, scene_id, &dataset, &data_root, &modalities)?;
        let datetime = row.get::<_, Option<i64>>(s2_at).ok().flatten().or(times.first().copied());
        let cloud_cover = row.get::<_, Option<f64>>(cloud_at).ok().flatten().map(|f| f * 100.0);
        let mut cells = vec![
            Cell::Text("Feature".into()),
            Cell::Text(STAC_VERSION.into()),
            text_cells(&EXTENSIONS),
            Cell::Text(name),
            geometry,
            Cell::Struct(bbox.map(Cell::Real).to_vec()),
            Cell::List(Vec::new()),
            assets,
            datetime.map_or(Cell::Null, Cell::Int),
            Cell::Int(start),
            Cell::Int(end),
            cloud_cover.map_or(Cell::Null, Cell::Real),
            Cell::Text("IW".into()),
            Cell::Text("C".into()),
            Cell::Text("GRD".into()),
            text_cells(&["VV", "VH"]),
        ];
        for (at, _, kind) in own_properties(query) {
            cells.push(cell_of(row.get_ref(at)?, kind));
        }
        writer.push(&cells).map_err(|e| ExportError::Request(format!("scene {scene_id}: {e}")))?;
    }
    let stac = serde_json::json!({"version": "1.0.0", "collections": collections_json(&collections)});
    writer.finish(vec![("geo", geo_metadata(extent, &crs84_projjson()?)?), ("stac-geoparquet", stac.to_string())])
}

fn text_cells(texts: &[&str]) -> Cell {
    Cell::List(texts.iter().map(|t| Cell::Text(t.to_string())).collect())
}

/// A SEN12MS triplet's season folder window, in Unix milliseconds (the last millisecond of the
/// last day).
fn season_window(name: &str) -> Result<(i64, i64), ExportError> {
    let (first_day, after_last_day) = triplet_day_window(name).ok_or_else(|| {
        ExportError::Request(format!("scene {name} has no acquisition time, and its name gives no season"))
    })?;
    Ok(((first_day * MILLIS_PER_DAY) as i64, (after_last_day * MILLIS_PER_DAY) as i64 - 1))
}

/// The assets struct of a scene: one member per catalog modality, null where the scene has no
/// such file.
fn assets(
    files: &mut rusqlite::Statement,
    scene_id: i64,
    dataset: &str,
    data_root: &str,
    modalities: &[String],
) -> Result<Cell, ExportError> {
    let mut members = vec![Cell::Null; modalities.len()];
    let mut rows = files.query([scene_id])?;
    while let Some(row) = rows.next()? {
        let get = |i| row.get_ref(i).map_err(ExportError::from);
        let modality: String = row.get(0)?;
        let Some(at) = modalities.iter().position(|m| *m == modality) else { continue };
        let path = String::from_utf8_lossy(get(1)?.as_bytes().unwrap_or_default()).into_owned();
        let shape = match (get(4)?.as_i64_or_null(), get(3)?.as_i64_or_null()) {
            (Ok(Some(height)), Ok(Some(width))) => Cell::List(vec![Cell::Int(height), Cell::Int(width)]),
            _ => Cell::Null,
        };
        let geotransform =
            get(5)?.as_str_or_null().ok().flatten().and_then(|t| serde_json::from_str::<Vec<f64>>(t).ok());
        let mut asset = vec![
            Cell::Text(format!("{data_root}/{path}")),
            Cell::Text(GEOTIFF.into()),
            Cell::Text(title_of(&modality)),
            text_cells(&["data"]),
            get(2)?.as_i64_or_null().ok().flatten().map_or(Cell::Null, |epsg| Cell::Text(format!("EPSG:{epsg}"))),
            shape,
            geotransform.filter(|g| g.len() == 6).map_or(Cell::Null, |g| affine(&g)),
        ];
        match bands_of(&modality) {
            Bands::Optical => asset.push(eo_bands(dataset, &modality)),
            Bands::Radar => asset.push(text_cells(&["VV", "VH"])),
            Bands::Other => {}
        }
        members[at] = Cell::Struct(asset);
    }
    Ok(Cell::Struct(members))
}

/// GDAL's geotransform as STAC's `proj:transform`: the affine's first two rows, [a, b, c, d, e, f].
fn affine(gt: &[f64]) -> Cell {
    Cell::List([gt[1], gt[2], gt[0], gt[4], gt[5], gt[3]].map(Cell::Real).to_vec())
}

/// `eo:bands` of an optical file: the dataset's band names, with the MSI's common names and
/// centre wavelengths where the band is one of the MSI's.
fn eo_bands(dataset: &str, modality: &str) -> Cell {
    let names = Dataset::from_name(dataset).and_then(|d| d.band_names(modality)).unwrap_or_default();
    Cell::List(
        names
            .iter()
            .map(|name| {
                let known = S2_BANDS.iter().find(|(band, _, _)| band == name);
                Cell::Struct(vec![
                    Cell::Text(name.to_string()),
                    known.map_or(Cell::Null, |(_, common, _)| Cell::Text(common.to_string())),
                    known.map_or(Cell::Null, |(_, _, wavelength)| Cell::Real(*wavelength)),
                ])
            })
            .collect(),
    )
}

/// The STAC Collection of each dataset exported, keyed by its id.
fn collections_json(collections: &BTreeMap<String, CollectionExtent>) -> serde_json::Value {
    let iso = |millis: i64| {
        chrono::DateTime::from_timestamp_millis(millis).map(|t| t.format("%Y-%m-%dT%H:%M:%S%.3fZ").to_string())
    };
    let entries = collections.iter().map(|(id, c)| {
        let description = match Dataset::from_name(id) {
            Some(Dataset::Sen12tp) => "SEN12TP: paired Sentinel-1 and Sentinel-2 scenes (Roßberg & Schmitt 2023)",
            Some(Dataset::Sen12ms) => {
                "SEN12MS: Sentinel-1, Sentinel-2 and MODIS land-cover patch triplets (Schmitt et al. 2019)"
            }
            _ => "SEN12MS-CR: Sentinel-1 with clear and cloudy Sentinel-2 patches (Ebel et al. 2020)",
        };
        let collection = serde_json::json!({
            "type": "Collection",
            "stac_version": STAC_VERSION,
            "id": id,
            "description": description,
            "license": "CC-BY-4.0",
            "extent": {
                "spatial": {"bbox": [c.space.corners()]},
                "temporal": {"interval": [[iso(c.first), iso(c.last)]]},
            },
            "links": [],
        });
        (id.clone(), collection)
    });
    serde_json::Value::Object(entries.collect())
}
