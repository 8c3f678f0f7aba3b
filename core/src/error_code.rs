//! The stable error codes of CarChain's errors, declared as one table per error:
//! [`error_codes!`] writes an error enum's `code()` from its variants and their codes, a
//! variant that wraps another CarChain error answering that error's own code. Apps, logs,
//! the CLI's exit statuses and the bindings' error kinds all read these codes; a code is
//! never reworded.

/// `impl $error { pub fn code(&self) -> &'static str }` from a table of
/// `Variant => "area.code"` entries, or `Variant => inner` for a variant whose one field
/// is another error with its own `code()`.
macro_rules! error_codes {
    ($error:ident { $($entries:tt)* }) => {
        $crate::error_code::error_codes!(@arms $error [] $($entries)*);
    };
    (@arms $error:ident [$($arms:tt)*] $variant:ident => inner $(, $($rest:tt)*)?) => {
        $crate::error_code::error_codes!(@arms $error [$($arms)* $error::$variant(inner) => inner.code(),] $($($rest)*)?);
    };
    (@arms $error:ident [$($arms:tt)*] $variant:ident => $code:literal $(, $($rest:tt)*)?) => {
        $crate::error_code::error_codes!(@arms $error [$($arms)* $error::$variant { .. } => $code,] $($($rest)*)?);
    };
    (@arms $error:ident [$($arms:tt)*]) => {
        impl $error {
            /// A stable, machine-readable code for this error (`<area>.<kind>`; a wrapped
            /// error answers its own code), for apps, logs and exit statuses: never reworded.
            pub fn code(&self) -> &'static str {
                match self {
                    $($arms)*
                }
            }
        }
    };
}
pub(crate) use error_codes;
