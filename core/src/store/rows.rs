//! Reading query rows into structs: [`from_columns!`] names a struct's fields in the
//! order of the query's `SELECT` list, so no column index is written twice by hand.

/// Builds `$ty { field: row.get(index)?, … }`, reading the fields from the row's
/// columns 0, 1, 2, … in the order they are named; after a `;`, `field: value` pairs
/// set fields that no column fills. Used inside a function returning
/// `rusqlite::Result`.
macro_rules! from_columns {
    ($row:expr, $ty:ident { $($field:ident),+ $(,)? $(; $($fixed:ident: $value:expr),+ $(,)?)? }) => {{
        let mut columns = 0usize..;
        $ty {
            $($field: $row.get(columns.next().unwrap_or_default())?,)+
            $($($fixed: $value,)+)?
        }
    }};
}
pub(super) use from_columns;
