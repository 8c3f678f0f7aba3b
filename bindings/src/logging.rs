//! CarChain's log records for the host app: a `tracing` layer forwards every event at or
//! above a chosen level to a [`Logger`] the host implements (Logcat, os_log...).

use std::cell::Cell;
use std::fmt::{self, Write as _};
use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::{Arc, Once, RwLock};

use tracing::field::{Field, Visit};
use tracing::subscriber::Interest;
use tracing::{Event, Level, Metadata, Subscriber};
use tracing_subscriber::layer::{Context, Layer, SubscriberExt};

/// Severity of a log record, most severe first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, uniffi::Enum)]
pub enum LogLevel {
    /// Something failed.
    Error,
    /// Something unexpected that CarChain recovered from.
    Warn,
    /// Milestones: store migrated, car paired, sync done.
    Info,
    /// Details for developers.
    Debug,
    /// Very verbose details.
    Trace,
}

impl LogLevel {
    fn from_tracing(level: &Level) -> LogLevel {
        match *level {
            Level::ERROR => LogLevel::Error,
            Level::WARN => LogLevel::Warn,
            Level::INFO => LogLevel::Info,
            Level::DEBUG => LogLevel::Debug,
            _ => LogLevel::Trace,
        }
    }

    fn rank(self) -> u8 {
        match self {
            LogLevel::Error => 1,
            LogLevel::Warn => 2,
            LogLevel::Info => 3,
            LogLevel::Debug => 4,
            LogLevel::Trace => 5,
        }
    }
}

/// The host's log sink. Called from any thread; must not block for long.
#[uniffi::export(with_foreign)]
pub trait Logger: Send + Sync {
    /// One record: its level, target (the Rust module, e.g. `carchain_core::store`) and
    /// message with its fields (`wallet store migrated version=1 step=...`).
    fn log(&self, level: LogLevel, target: String, message: String);
}

/// No logger: nothing passes.
const OFF: u8 = 0;

static MAX_LEVEL: AtomicU8 = AtomicU8::new(OFF);
static LOGGER: RwLock<Option<Arc<dyn Logger>>> = RwLock::new(None);
static INSTALL: Once = Once::new();

thread_local! {
    /// Set while a record is being handed to the host, so a host logger that calls back
    /// into CarChain cannot recurse forever.
    static FORWARDING: Cell<bool> = const { Cell::new(false) };
}

/// Sends CarChain's log records at `level` and more severe to `logger`, replacing any
/// previous logger. The first call installs CarChain's `tracing` subscriber as the
/// process-wide default; if the process already has one, records go there instead.
#[uniffi::export]
pub fn set_logger(logger: Arc<dyn Logger>, level: LogLevel) {
    if let Ok(mut slot) = LOGGER.write() {
        *slot = Some(logger);
    }
    MAX_LEVEL.store(level.rank(), Ordering::SeqCst);
    INSTALL.call_once(|| {
        let subscriber = tracing_subscriber::registry().with(ForwardLayer);
        // Fails only when the host process already chose a subscriber: keep theirs.
        let _ = tracing::subscriber::set_global_default(subscriber);
    });
}

/// Stops forwarding log records.
#[uniffi::export]
pub fn clear_logger() {
    MAX_LEVEL.store(OFF, Ordering::SeqCst);
    if let Ok(mut slot) = LOGGER.write() {
        *slot = None;
    }
}

fn passes(level: &Level) -> bool {
    LogLevel::from_tracing(level).rank() <= MAX_LEVEL.load(Ordering::Relaxed)
}

/// The `tracing` layer that forwards events to the host [`Logger`].
struct ForwardLayer;

impl<S: Subscriber> Layer<S> for ForwardLayer {
    fn register_callsite(&self, _: &'static Metadata<'static>) -> Interest {
        // The level can change at any time: ask `enabled` on every event.
        Interest::sometimes()
    }

    fn enabled(&self, metadata: &Metadata<'_>, _: Context<'_, S>) -> bool {
        passes(metadata.level())
    }

    fn on_event(&self, event: &Event<'_>, _: Context<'_, S>) {
        let metadata = event.metadata();
        if !passes(metadata.level()) || FORWARDING.with(Cell::get) {
            return;
        }
        let logger = match LOGGER.read() {
            Ok(slot) => slot.clone(),
            Err(_) => None,
        };
        let Some(logger) = logger else { return };
        let mut text = MessageText::default();
        event.record(&mut text);
        FORWARDING.with(|flag| flag.set(true));
        logger.log(
            LogLevel::from_tracing(metadata.level()),
            metadata.target().to_owned(),
            text.finish(),
        );
        FORWARDING.with(|flag| flag.set(false));
    }
}

/// An event's message followed by its other fields as `name=value`.
#[derive(Default)]
struct MessageText {
    message: String,
    fields: String,
}

impl MessageText {
    fn finish(self) -> String {
        match (self.message.is_empty(), self.fields.is_empty()) {
            (_, true) => self.message,
            (true, false) => self.fields,
            (false, false) => format!("{} {}", self.message, self.fields),
        }
    }
}

impl Visit for MessageText {
    fn record_str(&mut self, field: &Field, value: &str) {
        if field.name() == "message" {
            self.message.push_str(value);
        } else {
            self.record_debug(field, &format_args!("{value}"));
        }
    }

    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        if field.name() == "message" {
            let _ = write!(self.message, "{value:?}");
        } else {
            if !self.fields.is_empty() {
                self.fields.push(' ');
            }
            let _ = write!(self.fields, "{}={value:?}", field.name());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Mutex;

    #[derive(Default)]
    struct Collect {
        records: Mutex<Vec<(LogLevel, String, String)>>,
    }

    impl Logger for Collect {
        fn log(&self, level: LogLevel, target: String, message: String) {
            self.records.lock().unwrap().push((level, target, message));
        }
    }

    impl Collect {
        fn mine(&self) -> Vec<(LogLevel, String, String)> {
            let records = self.records.lock().unwrap();
            records
                .iter()
                .filter(|r| r.1 == "ffi_log_test")
                .cloned()
                .collect()
        }
    }

    // One test only: the logger is process-wide state.
    #[test]
    fn records_reach_the_host_logger_through_the_level_filter() {
        let first = Arc::new(Collect::default());
        set_logger(first.clone(), LogLevel::Info);
        tracing::info!(target: "ffi_log_test", version = 3, step = "initial", "store migrated");
        tracing::debug!(target: "ffi_log_test", "too verbose for Info");
        tracing::error!(target: "ffi_log_test", "failed");
        assert_eq!(
            first.mine(),
            [
                (
                    LogLevel::Info,
                    "ffi_log_test".to_owned(),
                    "store migrated version=3 step=initial".to_owned()
                ),
                (
                    LogLevel::Error,
                    "ffi_log_test".to_owned(),
                    "failed".to_owned()
                ),
            ]
        );

        // A new logger and level replace the old ones, even at known call sites.
        let second = Arc::new(Collect::default());
        set_logger(second.clone(), LogLevel::Trace);
        for _ in 0..2 {
            tracing::debug!(target: "ffi_log_test", "too verbose for Info");
        }
        assert_eq!(first.mine().len(), 2);
        assert_eq!(second.mine().len(), 2);
        assert_eq!(second.mine()[0].0, LogLevel::Debug);

        clear_logger();
        tracing::error!(target: "ffi_log_test", "after clear");
        assert_eq!(second.mine().len(), 2);
    }
}
