//! Trip maps: one SVG per car and day ([`day_map_svg`]), its PNG ([`svg_to_png`]), the
//! interactive Leaflet map of every trip ([`interactive_map`]) and the `index.html` that
//! shows them ([`index_html`]).

mod index;
mod interactive;
mod png;
mod project;
mod svg;

pub use index::{IndexEntry, index_html};
pub use interactive::{CAR_COLOURS, MapTrip, interactive_map, write_leaflet};
pub use png::svg_to_png;
pub use project::Projection;
pub use svg::{DayMarks, MAP_HEIGHT, MAP_WIDTH, day_map_svg, escape};

/// Errors of map rendering.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum MapError {
    /// No trip had a point to draw.
    #[error("nothing to draw: no trip has a point")]
    NothingToDraw,
    /// The SVG did not parse.
    #[error("the SVG does not parse: {0}")]
    BadSvg(String),
    /// The picture has no pixels.
    #[error("the picture is empty")]
    EmptyPicture,
    /// PNG encoding failed.
    #[error("PNG encoding failed: {0}")]
    PngEncoding(String),
}
