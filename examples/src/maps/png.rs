//! PNG rendering of a map with `resvg` (pure Rust), text included: the maps' titles,
//! legends and labels are drawn with DejaVu Sans, shipped in the repository
//! (`examples/assets/fonts`, Bitstream Vera licence) and compiled into the binary, so a
//! PNG looks the same on every machine whatever fonts it has installed.

use std::sync::{Arc, OnceLock};

use resvg::{tiny_skia, usvg};

use super::MapError;

/// The font every label is drawn with.
const LABEL_FONT: &[u8] = include_bytes!("../../assets/fonts/DejaVuSans.ttf");
/// Its family name, which the generic `sans-serif` of the SVGs resolves to.
const LABEL_FAMILY: &str = "DejaVu Sans";

/// The font database of every rendering: the shipped font only (loaded once).
fn label_fonts() -> Arc<usvg::fontdb::Database> {
    static FONTS: OnceLock<Arc<usvg::fontdb::Database>> = OnceLock::new();
    Arc::clone(FONTS.get_or_init(|| {
        let mut fonts = usvg::fontdb::Database::new();
        fonts.load_font_data(LABEL_FONT.to_vec());
        fonts.set_sans_serif_family(LABEL_FAMILY);
        Arc::new(fonts)
    }))
}

/// Rasterises `svg` to PNG bytes at its own size.
pub fn svg_to_png(svg: &str) -> Result<Vec<u8>, MapError> {
    let options = usvg::Options {
        font_family: LABEL_FAMILY.to_owned(),
        fontdb: label_fonts(),
        ..usvg::Options::default()
    };
    let tree = usvg::Tree::from_str(svg, &options).map_err(|e| MapError::BadSvg(e.to_string()))?;
    let size = tree.size().to_int_size();
    let mut pixmap =
        tiny_skia::Pixmap::new(size.width(), size.height()).ok_or(MapError::EmptyPicture)?;
    resvg::render(&tree, tiny_skia::Transform::default(), &mut pixmap.as_mut());
    pixmap
        .encode_png()
        .map_err(|e| MapError::PngEncoding(e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dark_pixels(png: &[u8]) -> usize {
        let pixmap = tiny_skia::Pixmap::decode_png(png).unwrap();
        pixmap
            .pixels()
            .iter()
            .filter(|p| p.alpha() > 0 && u16::from(p.red()) + u16::from(p.green()) < 200)
            .count()
    }

    #[test]
    fn renders_a_red_square_at_the_right_pixels() {
        let svg = r##"<svg xmlns="http://www.w3.org/2000/svg" width="20" height="10"><rect x="0" y="0" width="20" height="10" fill="#ffffff"/><rect x="10" y="0" width="10" height="10" fill="#ff0000"/></svg>"##;
        let png = svg_to_png(svg).unwrap();
        assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n");
        let pixmap = tiny_skia::Pixmap::decode_png(&png).unwrap();
        assert_eq!((pixmap.width(), pixmap.height()), (20, 10));
        let left = pixmap.pixel(2, 5).unwrap();
        let right = pixmap.pixel(15, 5).unwrap();
        assert_eq!((left.red(), left.green(), left.blue()), (255, 255, 255));
        assert_eq!((right.red(), right.green(), right.blue()), (255, 0, 0));
    }

    #[test]
    fn labels_are_drawn_in_the_shipped_font() {
        let page = |text: &str| {
            format!(
                r##"<svg xmlns="http://www.w3.org/2000/svg" width="200" height="40"><rect width="200" height="40" fill="#ffffff"/><text x="10" y="28" font-family="sans-serif" font-size="20" fill="#000000">{text}</text></svg>"##
            )
        };
        let blank = dark_pixels(&svg_to_png(&page("")).unwrap());
        let labelled = dark_pixels(&svg_to_png(&page("harsh brake")).unwrap());
        assert_eq!(blank, 0);
        // Eleven glyphs at 20 px cover far more than a few stray pixels.
        assert!(labelled > 300, "only {labelled} dark pixels");
        // Longer text covers more.
        let longer = dark_pixels(&svg_to_png(&page("harsh brake, parking")).unwrap());
        assert!(longer > labelled, "{longer} <= {labelled}");
    }

    #[test]
    fn bad_svg_is_an_error() {
        assert!(matches!(svg_to_png("<svg"), Err(MapError::BadSvg(_))));
    }
}
