//! GeoJSON or WKT text in WGS84 lon/lat to a `geo` geometry, with every coordinate checked.

use super::error::{syntax, GeometryError};
use geo::{
    Coord, CoordsIter, Geometry, GeometryCollection, LineString, MultiLineString, MultiPoint, MultiPolygon, Point,
    Polygon,
};
use serde_json::Value;
use wkt::TryFromWkt;

/// Longest geometry text accepted: refused before parsing.
pub const MAX_GEOMETRY_BYTES: usize = 16 << 20;

/// GeoJSON (text starting with `{`: a geometry, Feature or FeatureCollection) or WKT.
pub fn parse_geometry(text: &str) -> Result<Geometry<f64>, GeometryError> {
    if text.len() > MAX_GEOMETRY_BYTES {
        return Err(GeometryError::TooLarge { bytes: text.len(), limit: MAX_GEOMETRY_BYTES });
    }
    let text = text.trim();
    let geometry = if text.starts_with('{') {
        let json: Value = serde_json::from_str(text).map_err(|e| syntax(format!("not valid GeoJSON: {e}")))?;
        from_geojson(&json)?
    } else {
        Geometry::try_from_wkt_str(text)
            .map_err(|e| syntax(format!("not valid WKT or GeoJSON: {}", first_line(&e.to_string()))))?
    };
    check_lonlat(&geometry)?;
    Ok(geometry)
}

/// The exterior ring of a polygon geometry (a catalog footprint), as [lon, lat] pairs.
pub fn polygon_ring(text: &str) -> Result<Vec<[f64; 2]>, GeometryError> {
    match parse_geometry(text)? {
        Geometry::Polygon(polygon) => Ok(polygon.exterior().coords().map(|c| [c.x, c.y]).collect()),
        other => Err(GeometryError::NotPolygon(kind(&other))),
    }
}

fn first_line(message: &str) -> String {
    message.lines().next().unwrap_or_default().chars().take(120).collect()
}

fn check_lonlat(geometry: &Geometry<f64>) -> Result<(), GeometryError> {
    for c in geometry.coords_iter() {
        if !c.x.is_finite() || !c.y.is_finite() || c.x.abs() > 180.0 || c.y.abs() > 90.0 {
            return Err(GeometryError::NotLonLat { x: c.x, y: c.y });
        }
    }
    Ok(())
}

/// The GeoJSON type name of a geometry, for messages.
pub fn kind(geometry: &Geometry<f64>) -> &'static str {
    match geometry {
        Geometry::Point(_) => "Point",
        Geometry::MultiPoint(_) => "MultiPoint",
        Geometry::LineString(_) | Geometry::Line(_) => "LineString",
        Geometry::MultiLineString(_) => "MultiLineString",
        Geometry::Polygon(_) | Geometry::Rect(_) | Geometry::Triangle(_) => "Polygon",
        Geometry::MultiPolygon(_) => "MultiPolygon",
        Geometry::GeometryCollection(_) => "GeometryCollection",
    }
}

fn from_geojson(json: &Value) -> Result<Geometry<f64>, GeometryError> {
    let kind = json.get("type").and_then(Value::as_str).ok_or_else(|| syntax("GeoJSON object without a \"type\""))?;
    let coordinates =
        || json.get("coordinates").ok_or_else(|| syntax(format!("GeoJSON {kind} without \"coordinates\"")));
    Ok(match kind {
        "Point" => Geometry::Point(Point(position(coordinates()?)?)),
        "MultiPoint" => Geometry::MultiPoint(MultiPoint(list(coordinates()?, |p| position(p).map(Point))?)),
        "LineString" => Geometry::LineString(line(coordinates()?)?),
        "MultiLineString" => Geometry::MultiLineString(MultiLineString(list(coordinates()?, line)?)),
        "Polygon" => Geometry::Polygon(polygon(coordinates()?)?),
        "MultiPolygon" => Geometry::MultiPolygon(MultiPolygon(list(coordinates()?, polygon)?)),
        "GeometryCollection" => {
            let members =
                json.get("geometries").ok_or_else(|| syntax("GeoJSON GeometryCollection without \"geometries\""))?;
            Geometry::GeometryCollection(GeometryCollection(list(members, from_geojson)?))
        }
        "Feature" => from_geojson(
            json.get("geometry")
                .filter(|g| !g.is_null())
                .ok_or_else(|| syntax("GeoJSON Feature without a geometry"))?,
        )?,
        "FeatureCollection" => {
            let features =
                json.get("features").ok_or_else(|| syntax("GeoJSON FeatureCollection without \"features\""))?;
            Geometry::GeometryCollection(GeometryCollection(list(features, from_geojson)?))
        }
        other => return Err(syntax(format!("unknown GeoJSON type '{}'", other.chars().take(40).collect::<String>()))),
    })
}

fn list<T>(json: &Value, item: impl Fn(&Value) -> Result<T, GeometryError>) -> Result<Vec<T>, GeometryError> {
    json.as_array().ok_or_else(|| syntax("GeoJSON: expected an array"))?.iter().map(item).collect()
}

fn position(json: &Value) -> Result<Coord<f64>, GeometryError> {
    let numbers =
        json.as_array().filter(|a| a.len() >= 2).ok_or_else(|| syntax("GeoJSON position must be [lon, lat]"))?;
    match (numbers[0].as_f64(), numbers[1].as_f64()) {
        (Some(x), Some(y)) => Ok(Coord { x, y }),
        _ => Err(syntax("GeoJSON position must hold numbers")),
    }
}

fn line(json: &Value) -> Result<LineString<f64>, GeometryError> {
    let coords = list(json, position)?;
    if coords.len() < 2 {
        return Err(syntax("a GeoJSON LineString needs at least 2 positions"));
    }
    Ok(LineString(coords))
}

fn polygon(json: &Value) -> Result<Polygon<f64>, GeometryError> {
    let mut rings = list(json, line)?.into_iter();
    let exterior = rings.next().ok_or_else(|| syntax("a GeoJSON Polygon needs an exterior ring"))?;
    if exterior.0.len() < 4 || !exterior.is_closed() {
        return Err(syntax("a GeoJSON Polygon ring must be closed and have at least 4 positions"));
    }
    Ok(Polygon::new(exterior, rings.collect()))
}
