//! The wallet's SQLite store: versioned migrations and secrets encrypted at rest.
