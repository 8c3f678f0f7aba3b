//! The error type shared by the record module: format registry, key encoding, range
//! bounds, value parsing and projection. Messages name fields and formats, never
//! field values, so a record's content (a VIN, a position) never reaches a log.

use thiserror::Error;

/// Everything that can go wrong while describing, encoding or reading a record.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum RecordError {
    /// No format with this name is built in or registered.
    #[error("unknown record format `{0}`")]
    UnknownFormat(String),
    /// A format name is empty, longer than 64 bytes or uses a character outside
    /// `[A-Za-z0-9_.-]`.
    #[error("invalid format name `{name}`: {reason}")]
    InvalidFormatName {
        /// The refused name.
        name: String,
        /// Why it was refused.
        reason: &'static str,
    },
    /// A format declares no key field.
    #[error("format `{format}` declares no key field")]
    NoKeyFields {
        /// The format's name.
        format: String,
    },
    /// A format declares more key fields than allowed.
    #[error("format `{format}` declares {count} key fields, at most {max} are allowed")]
    TooManyKeyFields {
        /// The format's name.
        format: String,
        /// How many fields were declared.
        count: usize,
        /// The limit.
        max: usize,
    },
    /// A format declares an empty key field name.
    #[error("format `{format}` declares an empty key field name")]
    EmptyKeyFieldName {
        /// The format's name.
        format: String,
    },
    /// A format declares the same key field twice.
    #[error("format `{format}` declares key field `{field}` twice")]
    DuplicateKeyField {
        /// The format's name.
        format: String,
        /// The repeated field.
        field: String,
    },
    /// A custom format tried to take the name of a built-in format.
    #[error("format name `{0}` is reserved for a built-in format")]
    BuiltInFormatClash(String),
    /// A custom format with this name is already registered with other key fields.
    #[error("format `{0}` is already registered with different key fields")]
    FormatConflict(String),
    /// A record key (or range bound) is not a JSON object.
    #[error("a record key must be a JSON object, found {found}")]
    KeyNotObject {
        /// The JSON kind that was found instead.
        found: &'static str,
    },
    /// A record key lacks one of its format's key fields.
    #[error("key of format `{format}` lacks field `{field}`")]
    MissingKeyField {
        /// The format's name.
        format: String,
        /// The missing field.
        field: String,
    },
    /// A record key has a field its format does not declare.
    #[error("key of format `{format}` has undeclared field `{field}`")]
    UnexpectedKeyField {
        /// The format's name.
        format: String,
        /// The undeclared field.
        field: String,
    },
    /// A key field holds a JSON value that cannot be part of a key.
    #[error("key field `{field}` holds a {found}; only integers and strings are allowed")]
    UnsupportedKeyValue {
        /// The field's name.
        field: String,
        /// The JSON kind that was found.
        found: &'static str,
    },
    /// A key field holds an integer outside the signed 64-bit range.
    #[error("key field `{field}` holds an integer outside the signed 64-bit range")]
    KeyIntegerOutOfRange {
        /// The field's name.
        field: String,
    },
    /// A range bound names a field after a field it leaves out: only trailing
    /// fields may be left out.
    #[error(
        "range bound of format `{format}` leaves out `{missing}` but gives the later field `{later}`"
    )]
    BoundFieldGap {
        /// The format's name.
        format: String,
        /// The first field left out.
        missing: String,
        /// A later field that is given.
        later: String,
    },
    /// A range's start sorts after its end.
    #[error("range start sorts after range end")]
    StartAfterEnd,
    /// Encoded key bytes end in the middle of a field.
    #[error("encoded key ends inside field `{field}`")]
    TruncatedKey {
        /// The field being decoded.
        field: String,
    },
    /// Encoded key bytes hold an unknown field tag.
    #[error("encoded key has unknown tag 0x{tag:02x} at byte {offset}")]
    BadKeyTag {
        /// The tag byte.
        tag: u8,
        /// Its position in the encoded key.
        offset: usize,
    },
    /// Encoded key bytes hold a 0x00 byte inside a string not followed by 0xFF or 0x01.
    #[error("encoded key has a bad string escape at byte {offset}")]
    BadKeyEscape {
        /// Position of the offending byte.
        offset: usize,
    },
    /// An encoded string field is not UTF-8.
    #[error("encoded key field `{field}` is not UTF-8")]
    KeyStringNotUtf8 {
        /// The field being decoded.
        field: String,
    },
    /// Encoded key bytes continue after the format's last field.
    #[error("encoded key has {count} bytes after its last field")]
    TrailingKeyBytes {
        /// How many bytes are left over.
        count: usize,
    },
    /// A value (or key) text is not JSON, even after the lenient rewrite.
    #[error("malformed JSON at line {line} column {column}: {reason}")]
    MalformedJson {
        /// 1-based line of the problem.
        line: usize,
        /// 1-based column of the problem (0 at end of input, as serde_json reports).
        column: usize,
        /// What the parser expected, without the offending text.
        reason: String,
    },
    /// A record value is not a JSON object.
    #[error("a record value must be a JSON object, found {found}")]
    ValueNotObject {
        /// The JSON kind that was found instead.
        found: &'static str,
    },
    /// A value's `format` field is not a string.
    #[error("the value's `format` field must be a string, found {found}")]
    FormatFieldNotString {
        /// The JSON kind that was found instead.
        found: &'static str,
    },
    /// A value's `format` field disagrees with the format the record was put with.
    #[error("record declared as format `{declared}` carries format `{found}`")]
    FormatMismatch {
        /// The format the record was put (or read) with.
        declared: String,
        /// The format written inside the value.
        found: String,
    },
    /// A projection asks for a column the value does not have.
    #[error("unknown column `{0}`")]
    UnknownColumn(String),
    /// A projection asks for the same column twice.
    #[error("column `{0}` is requested twice")]
    DuplicateColumn(String),
}

crate::error_code::error_codes!(RecordError {
    UnknownFormat => "record.unknown_format",
    InvalidFormatName => "record.invalid_format_name",
    NoKeyFields => "record.no_key_fields",
    TooManyKeyFields => "record.too_many_key_fields",
    EmptyKeyFieldName => "record.empty_key_field_name",
    DuplicateKeyField => "record.duplicate_key_field",
    BuiltInFormatClash => "record.built_in_format_clash",
    FormatConflict => "record.format_conflict",
    KeyNotObject => "record.key_not_object",
    MissingKeyField => "record.missing_key_field",
    UnexpectedKeyField => "record.unexpected_key_field",
    UnsupportedKeyValue => "record.unsupported_key_value",
    KeyIntegerOutOfRange => "record.key_integer_out_of_range",
    BoundFieldGap => "record.bound_field_gap",
    StartAfterEnd => "record.start_after_end",
    TruncatedKey => "record.truncated_key",
    BadKeyTag => "record.bad_key_tag",
    BadKeyEscape => "record.bad_key_escape",
    KeyStringNotUtf8 => "record.key_string_not_utf8",
    TrailingKeyBytes => "record.trailing_key_bytes",
    MalformedJson => "record.malformed_json",
    ValueNotObject => "record.value_not_object",
    FormatFieldNotString => "record.format_field_not_string",
    FormatMismatch => "record.format_mismatch",
    UnknownColumn => "record.unknown_column",
    DuplicateColumn => "record.duplicate_column",
});

/// Shorthand for results of this module.
pub type RecordResult<T> = Result<T, RecordError>;

/// The name of a JSON value's kind, for error messages that must not quote the value.
pub(crate) fn json_kind(value: &serde_json::Value) -> &'static str {
    match value {
        serde_json::Value::Null => "null",
        serde_json::Value::Bool(_) => "boolean",
        serde_json::Value::Number(n) if n.is_f64() => "float",
        serde_json::Value::Number(_) => "integer",
        serde_json::Value::String(_) => "string",
        serde_json::Value::Array(_) => "array",
        serde_json::Value::Object(_) => "object",
    }
}
