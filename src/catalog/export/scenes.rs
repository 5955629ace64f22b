//! The scene table every export writes: one row per scene with its attributes, quality, land-cover
//! mix, a link to each of its files, its footprint (WKB) and its bounding box, selected by the
//! user's own `WHERE` clause over those columns.

use crate::catalog::meta_get;
use rusqlite::Connection;

/// What a column holds, and so its type in each format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// INT64.
    Integer,
    /// DOUBLE.
    Real,
    /// UTF-8 text.
    Text,
    /// 0/1 in the catalog.
    Boolean,
    /// ISO-8601 UTC text in the catalog, a timestamp in formats that have one.
    Time,
    /// Bytes.
    Blob,
    /// A column declared without a type (`ANY`): numbers and text, exported as text.
    Any,
}

impl Kind {
    /// The kind of a column SQLite declares as `declared`.
    pub fn of_declared(declared: &str) -> Kind {
        match declared.to_ascii_uppercase().as_str() {
            "INTEGER" => Kind::Integer,
            "REAL" => Kind::Real,
            "TEXT" => Kind::Text,
            "BLOB" => Kind::Blob,
            _ => Kind::Any,
        }
    }
}

/// One exported attribute column.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Column {
    /// Its name in the export (and in the user's `WHERE`).
    pub name: String,
    /// What it holds.
    pub kind: Kind,
    /// Its expression over `scenes s` joined to `landcover_mix m`.
    expression: String,
}

/// The scene attributes, as `scenes` names them.
const SCENE_COLUMNS: &[(&str, Kind)] = &[
    ("scene_id", Kind::Integer),
    ("dataset", Kind::Text),
    ("name", Kind::Text),
    ("roi_id", Kind::Integer),
    ("split", Kind::Text),
    ("climate", Kind::Text),
    ("landcover", Kind::Text),
    ("s1_time", Kind::Time),
    ("s2_time", Kind::Time),
    ("dt_hours", Kind::Real),
    ("month", Kind::Integer),
    ("season", Kind::Text),
    ("hemisphere", Kind::Text),
    ("utm_epsg", Kind::Integer),
    ("center_lon", Kind::Real),
    ("center_lat", Kind::Real),
    ("width", Kind::Integer),
    ("height", Kind::Integer),
    ("has_files", Kind::Boolean),
    ("cloud_fraction", Kind::Real),
    ("valid_fraction", Kind::Real),
    ("ndvi_mean", Kind::Real),
    ("release_season", Kind::Text),
];

/// The WorldCover fractions of `landcover_mix`.
const LANDCOVER_COLUMNS: &[&str] = &[
    "tree",
    "shrubland",
    "grassland",
    "cropland",
    "built_up",
    "bare",
    "snow_ice",
    "water",
    "wetland",
    "mangroves",
    "moss_lichen",
];

/// The columns that follow the attributes in every row of [`SceneQuery::sql`], in this order.
pub const GEOMETRY_COLUMNS: [&str; 5] = ["geom", "min_lon", "min_lat", "max_lon", "max_lat"];

/// The attribute columns of this catalog: the scene's, its land-cover mix, and `<modality>_href`
/// for each modality the catalog has files of (the file's path under data_root, which a reader
/// opens as it is: a local path or a GDAL virtual path).
pub fn columns(conn: &Connection) -> rusqlite::Result<Vec<Column>> {
    let scene =
        SCENE_COLUMNS.iter().map(|&(name, kind)| Column { name: name.into(), kind, expression: format!("s.{name}") });
    let landcover = LANDCOVER_COLUMNS.iter().map(|&name| Column {
        name: name.into(),
        kind: Kind::Real,
        expression: format!("m.{name}"),
    });
    let root = meta_get(conn, "data_root")?.unwrap_or_default();
    let hrefs = crate::catalog::read::modality_names(conn)?.into_iter().map(|modality| Column {
        name: format!("{modality}_href"),
        kind: Kind::Text,
        expression: format!(
            "(SELECT {} || '/' || f.path FROM files f WHERE f.scene_id = s.scene_id AND f.modality = {})",
            quote(&root),
            quote(&modality)
        ),
    });
    Ok(scene.chain(landcover).chain(hrefs).collect())
}

/// An SQL string literal.
fn quote(text: &str) -> String {
    format!("'{}'", text.replace('\'', "''"))
}

/// The export's one query.
pub struct SceneQuery {
    /// The attribute columns, then [`GEOMETRY_COLUMNS`].
    pub columns: Vec<Column>,
    /// `SELECT` of the scenes the filter keeps, by `scene_id`.
    pub sql: String,
}

/// How a format wants times: as the catalog's text, or as Unix milliseconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Times {
    /// ISO-8601 text, as stored.
    Text,
    /// Milliseconds since 1970-01-01 UTC.
    Millis,
}

/// The scenes `filter` (an SQL expression over the exported column names, as a `WHERE` clause)
/// keeps, with every column. The filter sees times as the catalog's text whatever `times` asks.
pub fn scene_query(conn: &Connection, filter: Option<&str>, times: Times) -> rusqlite::Result<SceneQuery> {
    let columns = columns(conn)?;
    let inner: Vec<String> = columns.iter().map(|c| format!("{} AS {}", c.expression, c.name)).collect();
    let outer: Vec<String> = columns
        .iter()
        .map(|c| match (c.kind, times) {
            (Kind::Time, Times::Millis) => {
                format!("CAST(round((julianday({0}) - 2440587.5) * 86400000.0) AS INTEGER) AS {0}", c.name)
            }
            _ => c.name.clone(),
        })
        .chain(GEOMETRY_COLUMNS.iter().map(std::string::ToString::to_string))
        .collect();
    let sql = format!(
        "SELECT {} FROM (SELECT {}, s.geom, s.min_lon, s.min_lat, s.max_lon, s.max_lat \
         FROM scenes s LEFT JOIN landcover_mix m USING (scene_id)) WHERE ({}) ORDER BY scene_id",
        outer.join(", "),
        inner.join(", "),
        filter.unwrap_or("1")
    );
    Ok(SceneQuery { columns, sql })
}
