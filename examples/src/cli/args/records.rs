//! The record, data, trip and export arguments of the `carchain` command line: a record's
//! format, key and value, the date ranges and pages the listing commands take, and the
//! export formats. Re-exported by `cli::args`.

use std::path::PathBuf;

use clap::{Args, Subcommand, ValueEnum};

/// A record format by name, with its key fields when it is not a built-in one.
#[derive(Debug, Args)]
pub struct FormatArgs {
    /// Record format (`trip-gps`, `carvio`, `VIN_CODE`, or a custom name with `--fields`).
    #[arg(long)]
    pub format: String,
    /// Key fields of a custom format, in order, comma-separated.
    #[arg(long, value_delimiter = ',')]
    pub fields: Vec<String>,
}

/// A value: inline, or from a file or stdin (for values longer than a command line).
#[derive(Debug, Args)]
pub struct ValueArgs {
    /// The value, a JSON object (`"field"=value` as the design writes it is accepted).
    #[arg(
        long,
        required_unless_present = "value_file",
        conflicts_with = "value_file"
    )]
    pub value: Option<String>,
    /// A file holding the value (`-` reads stdin), for values up to the node's limit.
    #[arg(long, value_name = "PATH")]
    pub value_file: Option<PathBuf>,
}

/// One record of a car: its day, format and complete key.
#[derive(Debug, Args)]
pub struct RecordAtArgs {
    /// The car's VID.
    #[arg(long)]
    pub vid: String,
    /// The day, YYYY-MM-DD.
    #[arg(long)]
    pub date: String,
    /// The format.
    #[command(flatten)]
    pub format: FormatArgs,
    /// The complete key, a JSON object of the format's fields.
    #[arg(long)]
    pub key: String,
    /// The value fields to keep.
    #[command(flatten)]
    pub fields: FieldsArgs,
}

/// The value fields a command keeps.
#[derive(Debug, Args)]
pub struct FieldsArgs {
    /// Value fields to keep (all when absent), comma-separated.
    #[arg(long, value_delimiter = ',')]
    pub columns: Vec<String>,
    /// One value field to keep, taken as written (a name with a comma in it); repeat it
    /// for several, alone or with `--columns`.
    #[arg(long = "column", value_name = "FIELD")]
    pub column: Vec<String>,
}

impl FieldsArgs {
    /// The fields kept: `--columns` split on commas, then each `--column`.
    pub fn kept(&self) -> Vec<String> {
        self.columns.iter().chain(&self.column).cloned().collect()
    }
}

/// A car and a period of days.
#[derive(Debug, Args)]
pub struct PeriodArgs {
    /// The car's VID.
    #[arg(long)]
    pub vid: String,
    /// First day, YYYY-MM-DD.
    #[arg(long)]
    pub from: String,
    /// Last day, YYYY-MM-DD.
    #[arg(long)]
    pub to: String,
}

/// A car's records of one format over a period of days.
#[derive(Debug, Args)]
pub struct RecordsInArgs {
    /// The car and period.
    #[command(flatten)]
    pub period: PeriodArgs,
    /// The format.
    #[command(flatten)]
    pub format: FormatArgs,
    /// The value fields to keep.
    #[command(flatten)]
    pub fields: FieldsArgs,
}

/// A page of a merged list.
#[derive(Debug, Args)]
pub struct PageArgs {
    /// Records to skip first.
    #[arg(long, default_value_t = 0)]
    pub offset: usize,
    /// Most records to return (all when absent; at least 1).
    #[arg(long)]
    pub limit: Option<usize>,
}

/// A record to write: its car, format, key and value.
#[derive(Debug, Args)]
pub struct RecordInputArgs {
    /// The car's VID.
    #[arg(long)]
    pub vid: String,
    /// The format.
    #[command(flatten)]
    pub format: FormatArgs,
    /// The key, a JSON object of the format's fields.
    #[arg(long)]
    pub key: String,
    /// The value.
    #[command(flatten)]
    pub value: ValueArgs,
}

/// `carchain put`
#[derive(Debug, Args)]
pub struct PutArgs {
    /// The car store.
    #[arg(long)]
    pub car: PathBuf,
    /// The record.
    #[command(flatten)]
    pub record: RecordInputArgs,
    /// The day the record belongs to, YYYY-MM-DD.
    #[arg(long)]
    pub date: String,
}

/// `carchain get`
#[derive(Debug, Args)]
pub struct GetArgs {
    /// The record.
    #[command(flatten)]
    pub record: RecordAtArgs,
}

/// `carchain range`
#[derive(Debug, Args)]
pub struct RangeArgs {
    /// The car, period, format and columns.
    #[command(flatten)]
    pub records: RecordsInArgs,
    /// Lowest key, a partial JSON key (default: unbounded).
    #[arg(long, default_value = "{}")]
    pub start: String,
    /// Highest key, a partial JSON key (default: unbounded).
    #[arg(long, default_value = "{}")]
    pub end: String,
    /// The page.
    #[command(flatten)]
    pub page: PageArgs,
}

/// `carchain record ...`
#[derive(Debug, Subcommand)]
pub enum RecordCommand {
    /// Write the first version of an owner record.
    Put(RecordWriteArgs),
    /// Write the next version of an owner record (every earlier one stays provable).
    Update(RecordWriteArgs),
    /// The latest version of one owner record, or every version with `--versions`.
    Get(RecordGetArgs),
    /// The latest version of each owner record of a format filed in a date range.
    List(RecordsInArgs),
}

/// `carchain record put|update`
#[derive(Debug, Args)]
pub struct RecordWriteArgs {
    /// The record.
    #[command(flatten)]
    pub record: RecordInputArgs,
    /// The day the record is filed under, YYYY-MM-DD (default: today, UTC).
    #[arg(long)]
    pub date: Option<String>,
}

/// `carchain record get`
#[derive(Debug, Args)]
pub struct RecordGetArgs {
    /// The record.
    #[command(flatten)]
    pub record: RecordAtArgs,
    /// Every version, oldest first, instead of the latest.
    #[arg(long)]
    pub versions: bool,
}

/// `carchain export`.
#[derive(Debug, Args)]
pub struct ExportArgs {
    /// The car's VID.
    #[arg(long, visible_alias = "car")]
    pub vid: String,
    /// First day, YYYY-MM-DD.
    #[arg(long)]
    pub from: String,
    /// Last day, YYYY-MM-DD.
    #[arg(long)]
    pub to: String,
    /// The archive to write (replaced only once the new one is complete and verified).
    #[arg(long, value_name = "FILE")]
    pub out: PathBuf,
}

/// `carchain verify-export`.
#[derive(Debug, Args)]
pub struct VerifyExportArgs {
    /// The archive.
    #[arg(value_name = "FILE")]
    pub file: PathBuf,
}

/// `carchain trips ...`
#[derive(Debug, Subcommand)]
pub enum TripsCommand {
    /// Summaries of a car's trips in a date range.
    List(PeriodArgs),
    /// One trip in full (summary, polyline, GeoJSON).
    Show {
        /// The car's VID.
        #[arg(long)]
        vid: String,
        /// The trip's day, YYYY-MM-DD.
        #[arg(long)]
        date: String,
        /// The trip's key: `{"SESSION_ID":..,"START_TIME":..,"END_TIME":..}`.
        #[arg(long)]
        key: String,
    },
    /// Write a car's trips of a date range as GeoJSON, GPX or an SVG map.
    Export {
        /// The car and period.
        #[command(flatten)]
        period: PeriodArgs,
        /// Output format.
        #[arg(long, value_enum)]
        format: ExportFormat,
        /// Output file.
        #[arg(long)]
        out: PathBuf,
    },
}

/// Trip export formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ExportFormat {
    /// A GeoJSON FeatureCollection.
    Geojson,
    /// GPX 1.1 tracks.
    Gpx,
    /// An SVG map of the trips.
    Svg,
}
