//! Projecting latitude/longitude onto a map picture: Web Mercator fitted into a
//! viewport with a margin, north up.

use carchain_core::trip::BoundingBox;

/// Maps positions of a bounding box into a `width` x `height` picture.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Projection {
    min_x: f64,
    max_y: f64,
    scale: f64,
    offset_x: f64,
    offset_y: f64,
}

fn mercator(lat: f64, lng: f64) -> (f64, f64) {
    let x = lng.to_radians();
    let y = (std::f64::consts::FRAC_PI_4 + lat.to_radians() / 2.0)
        .tan()
        .ln();
    (x, y)
}

impl Projection {
    /// Fits `bbox` into `width` x `height` with `margin` pixels on every side, keeping
    /// the aspect ratio (the box is centred).
    pub fn fit(bbox: &BoundingBox, width: f64, height: f64, margin: f64) -> Projection {
        let (min_x, min_y) = mercator(bbox.min_lat, bbox.min_lng);
        let (max_x, max_y) = mercator(bbox.max_lat, bbox.max_lng);
        let span_x = (max_x - min_x).max(1e-9);
        let span_y = (max_y - min_y).max(1e-9);
        let inner_w = (width - 2.0 * margin).max(1.0);
        let inner_h = (height - 2.0 * margin).max(1.0);
        let scale = (inner_w / span_x).min(inner_h / span_y);
        Projection {
            min_x,
            max_y,
            scale,
            offset_x: margin + (inner_w - span_x * scale) / 2.0,
            offset_y: margin + (inner_h - span_y * scale) / 2.0,
        }
    }

    /// The picture coordinates of a position (x right, y down).
    pub fn point(&self, lat: f64, lng: f64) -> (f64, f64) {
        let (x, y) = mercator(lat, lng);
        (
            self.offset_x + (x - self.min_x) * self.scale,
            self.offset_y + (self.max_y - y) * self.scale,
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn corners_land_inside_the_margin_north_up() {
        let bbox = BoundingBox {
            min_lat: 31.1,
            min_lng: 121.4,
            max_lat: 31.3,
            max_lng: 121.6,
        };
        let p = Projection::fit(&bbox, 800.0, 600.0, 20.0);
        let (x0, y0) = p.point(31.1, 121.4);
        let (x1, y1) = p.point(31.3, 121.6);
        assert!(x1 > x0 && y1 < y0, "north must be up");
        for (x, y) in [(x0, y0), (x1, y1)] {
            assert!((19.999..=780.001).contains(&x), "{x}");
            assert!((19.999..=580.001).contains(&y), "{y}");
        }
        // The box is taller than wide here (Mercator at 31 N): it fills the height.
        assert!((y0 - y1 - 560.0).abs() < 1e-6, "{}", y0 - y1);
        // And is centred horizontally.
        assert!((f64::midpoint(x0, x1) - 400.0).abs() < 1e-6);
    }
}
