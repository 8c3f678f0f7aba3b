//! PNG rendering of a map with `resvg` (pure Rust). Built without text shaping, so
//! labels are left out of the PNG; shapes, paths and markers are drawn.

use resvg::{tiny_skia, usvg};

use super::MapError;

/// Rasterises `svg` to PNG bytes at its own size.
pub fn svg_to_png(svg: &str) -> Result<Vec<u8>, MapError> {
    let tree = usvg::Tree::from_str(svg, &usvg::Options::default())
        .map_err(|e| MapError::BadSvg(e.to_string()))?;
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
    fn bad_svg_is_an_error() {
        assert!(matches!(svg_to_png("<svg"), Err(MapError::BadSvg(_))));
    }
}
