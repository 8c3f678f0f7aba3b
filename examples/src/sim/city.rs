//! The simulated city: a box of latitude/longitude and a street grid inside it whose
//! roads bend gently and come in three classes (local streets, arterials, elevated
//! expressways), so routes look like roads rather than random jitter.

use super::SimError;

/// Metres per degree of latitude (mean).
pub const METRES_PER_DEG_LAT: f64 = 110_574.0;
/// Metres per degree of longitude at the equator.
pub const METRES_PER_DEG_LNG_EQUATOR: f64 = 111_320.0;

/// A latitude/longitude box the cars stay in.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct CityBox {
    /// Southern edge, degrees.
    pub south: f64,
    /// Western edge, degrees.
    pub west: f64,
    /// Northern edge, degrees.
    pub north: f64,
    /// Eastern edge, degrees.
    pub east: f64,
}

impl CityBox {
    /// Central Shanghai (around People's Square, 31.23 N 121.47 E), about 20 x 20 km.
    pub fn shanghai() -> CityBox {
        CityBox {
            south: 31.14,
            west: 121.365,
            north: 31.32,
            east: 121.575,
        }
    }

    /// A checked box: edges in range, south < north, west < east, at least ~2 km a side.
    pub fn new(south: f64, west: f64, north: f64, east: f64) -> Result<CityBox, SimError> {
        let finite = [south, west, north, east].iter().all(|v| v.is_finite());
        if !finite
            || !(-85.0..=85.0).contains(&south)
            || !(-85.0..=85.0).contains(&north)
            || !(-180.0..=180.0).contains(&west)
            || !(-180.0..=180.0).contains(&east)
            || north - south < 0.02
            || east - west < 0.02
        {
            return Err(SimError::BadCityBox {
                south,
                west,
                north,
                east,
            });
        }
        Ok(CityBox {
            south,
            west,
            north,
            east,
        })
    }

    /// Parses `south,west,north,east`.
    pub fn parse(text: &str) -> Result<CityBox, SimError> {
        let parts: Vec<f64> = text
            .split(',')
            .map(|p| p.trim().parse::<f64>())
            .collect::<Result<_, _>>()
            .map_err(|_| SimError::BadCityBoxText(text.to_owned()))?;
        match parts.as_slice() {
            [s, w, n, e] => CityBox::new(*s, *w, *n, *e),
            _ => Err(SimError::BadCityBoxText(text.to_owned())),
        }
    }

    /// Whether the position lies inside the box.
    pub fn contains(&self, lat: f64, lng: f64) -> bool {
        (self.south..=self.north).contains(&lat) && (self.west..=self.east).contains(&lng)
    }

    /// Metres per degree of longitude in this box.
    pub fn metres_per_deg_lng(&self) -> f64 {
        METRES_PER_DEG_LNG_EQUATOR * f64::midpoint(self.south, self.north).to_radians().cos()
    }
}

/// How fast a road is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RoadClass {
    /// A local street (40 km/h).
    Local,
    /// An arterial road (60 km/h).
    Arterial,
    /// An elevated expressway (80 km/h).
    Expressway,
}

impl RoadClass {
    /// Speed limit in km/h.
    pub fn limit_kmh(self) -> f64 {
        match self {
            RoadClass::Local => 40.0,
            RoadClass::Arterial => 60.0,
            RoadClass::Expressway => 80.0,
        }
    }

    fn of_line(index: i64) -> RoadClass {
        if index % 8 == 0 {
            RoadClass::Expressway
        } else if index % 3 == 0 {
            RoadClass::Arterial
        } else {
            RoadClass::Local
        }
    }
}

/// An intersection of the grid: row `i` (south to north), column `j` (west to east).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Node {
    /// Row, from the south edge.
    pub i: i64,
    /// Column, from the west edge.
    pub j: i64,
}

/// The street grid of a city box: intersections about every `block_m` metres.
#[derive(Debug, Clone, PartialEq)]
pub struct RoadGrid {
    city: CityBox,
    rows: i64,
    cols: i64,
    step_lat: f64,
    step_lng: f64,
}

impl RoadGrid {
    /// The grid of `city` with blocks of about 550 m.
    pub fn new(city: CityBox) -> RoadGrid {
        let block_m = 550.0;
        let height_m = (city.north - city.south) * METRES_PER_DEG_LAT;
        let width_m = (city.east - city.west) * city.metres_per_deg_lng();
        // Keep a margin of one block inside the box so bends never leave it.
        let rows = ((height_m / block_m).floor() as i64).max(4);
        let cols = ((width_m / block_m).floor() as i64).max(4);
        RoadGrid {
            city,
            rows,
            cols,
            step_lat: (city.north - city.south) / rows as f64,
            step_lng: (city.east - city.west) / cols as f64,
        }
    }

    /// The city box.
    pub fn city(&self) -> CityBox {
        self.city
    }

    /// Number of rows and columns of intersections usable for routes.
    pub fn size(&self) -> (i64, i64) {
        (self.rows - 1, self.cols - 1)
    }

    /// Clamps a node into the usable grid (rows and columns 1..size).
    pub fn clamp(&self, node: Node) -> Node {
        Node {
            i: node.i.clamp(1, self.rows - 1),
            j: node.j.clamp(1, self.cols - 1),
        }
    }

    /// Position of an intersection: streets bend gently (a fifth of a block at most),
    /// the same way for every trip.
    pub fn position(&self, node: Node) -> (f64, f64) {
        let (i, j) = (node.i as f64, node.j as f64);
        let bend_lat = 0.18 * self.step_lat * (j * 0.45 + i * 1.7).sin();
        let bend_lng = 0.18 * self.step_lng * (i * 0.38 + j * 1.3).cos();
        (
            self.city.south + i * self.step_lat + bend_lat,
            self.city.west + j * self.step_lng + bend_lng,
        )
    }

    /// The class of the road between two neighbouring intersections.
    pub fn road_class(&self, from: Node, to: Node) -> RoadClass {
        if from.i == to.i {
            RoadClass::of_line(from.i)
        } else {
            RoadClass::of_line(from.j)
        }
    }

    /// A route of neighbouring intersections from `from` to `to`: along the faster
    /// road first when one is near, with one turn in the middle, as drivers do.
    pub fn route(&self, from: Node, to: Node, first_rows: bool) -> Vec<Node> {
        let from = self.clamp(from);
        let to = self.clamp(to);
        let mut path = vec![from];
        let mut here = from;
        let walk = |here: &mut Node, target: Node, path: &mut Vec<Node>| {
            while here.i != target.i {
                here.i += (target.i - here.i).signum();
                path.push(*here);
            }
            while here.j != target.j {
                here.j += (target.j - here.j).signum();
                path.push(*here);
            }
        };
        if first_rows {
            // North/south to the fastest row in between, across it, then the rest.
            let mid_i = fastest_line(from.i, to.i);
            walk(
                &mut here,
                Node {
                    i: mid_i,
                    j: from.j,
                },
                &mut path,
            );
            walk(&mut here, Node { i: mid_i, j: to.j }, &mut path);
        } else {
            // East/west to the fastest column in between, along it, then the rest.
            let mid_j = fastest_line(from.j, to.j);
            walk(
                &mut here,
                Node {
                    i: from.i,
                    j: mid_j,
                },
                &mut path,
            );
            walk(&mut here, Node { i: to.i, j: mid_j }, &mut path);
        }
        walk(&mut here, to, &mut path);
        path
    }
}

/// The line between `a` and `b` (inclusive) of the fastest road class, nearest the middle.
fn fastest_line(a: i64, b: i64) -> i64 {
    let (low, high) = (a.min(b), a.max(b));
    let middle = i64::midpoint(low, high);
    let rank = |line: i64| match RoadClass::of_line(line) {
        RoadClass::Expressway => 0,
        RoadClass::Arterial => 1,
        RoadClass::Local => 2,
    };
    (low..=high)
        .min_by_key(|line| (rank(*line), (line - middle).abs()))
        .unwrap_or(middle)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shanghai_contains_peoples_square() {
        assert!(CityBox::shanghai().contains(31.23, 121.47));
        assert!(!CityBox::shanghai().contains(39.9, 116.4));
    }

    #[test]
    fn bad_boxes_are_refused() {
        assert!(matches!(
            CityBox::new(31.3, 121.3, 31.1, 121.6),
            Err(SimError::BadCityBox { .. })
        ));
        assert!(CityBox::new(95.0, 0.0, 96.0, 1.0).is_err());
        assert!(CityBox::new(f64::NAN, 0.0, 1.0, 1.0).is_err());
        assert!(matches!(
            CityBox::parse("31.1,121.3"),
            Err(SimError::BadCityBoxText(_))
        ));
        assert!(CityBox::parse("a,b,c,d").is_err());
        assert_eq!(
            CityBox::parse("31.1, 121.3, 31.3, 121.6").unwrap(),
            CityBox::new(31.1, 121.3, 31.3, 121.6).unwrap()
        );
    }

    #[test]
    fn routes_step_between_neighbours_and_stay_in_the_box() {
        let grid = RoadGrid::new(CityBox::shanghai());
        let (rows, cols) = grid.size();
        assert!(rows > 20 && cols > 20, "{rows}x{cols}");
        let from = Node { i: 3, j: 4 };
        let to = Node { i: 20, j: 15 };
        for first_rows in [true, false] {
            let route = grid.route(from, to, first_rows);
            assert_eq!(route.first(), Some(&from));
            assert_eq!(route.last(), Some(&to));
            // Manhattan length: 17 + 11 steps.
            assert_eq!(route.len(), 29);
            for pair in route.windows(2) {
                let d = (pair[0].i - pair[1].i).abs() + (pair[0].j - pair[1].j).abs();
                assert_eq!(d, 1);
            }
            for node in &route {
                let (lat, lng) = grid.position(*node);
                assert!(grid.city().contains(lat, lng));
            }
        }
    }

    #[test]
    fn road_classes_follow_the_lines() {
        let grid = RoadGrid::new(CityBox::shanghai());
        let a = Node { i: 8, j: 1 };
        let b = Node { i: 8, j: 2 };
        assert_eq!(grid.road_class(a, b), RoadClass::Expressway);
        let c = Node { i: 3, j: 1 };
        let d = Node { i: 3, j: 2 };
        assert_eq!(grid.road_class(c, d), RoadClass::Arterial);
        let e = Node { i: 1, j: 1 };
        let f = Node { i: 2, j: 1 };
        assert_eq!(grid.road_class(e, f), RoadClass::Local);
    }
}
