//! JSON log lines with Elastic Common Schema (ECS) field names.
//!
//! [`EcsLayer`] is a `tracing_subscriber` layer that writes one JSON object
//! per event, ready for Filebeat/Elastic Agent, Fluent Bit or Vector without
//! a parsing stage:
//!
//! ```json
//! {"@timestamp":"2026-11-22T04:36:40.123Z","log.level":"warn","message":"sink write failed; retrying",
//!  "ecs.version":"8.11.0","service.name":"porttrack","service.version":"0.1.0",
//!  "event.dataset":"porttrack.log","log.logger":"porttrack::pipeline",
//!  "process.pid":7,"process.thread.name":"tokio-runtime-worker",
//!  "trace.id":"4bf92f3577b34da6a3ce929d0e0e4736","span.id":"00f067aa0ba902b7",
//!  "error.message":"connection refused","sink":"postgres","attempt":2}
//! ```
//!
//! * ECS names come first, in a fixed order; then the fields of the spans the
//!   event is in (outermost first), then the event's own fields.
//! * A field named `error`, or a value recorded as a `dyn Error`, becomes
//!   `error.message`.
//! * `trace.id` and `span.id` appear inside a span when OpenTelemetry is on
//!   (they come from `tracing-opentelemetry`'s per-span data, so a log line
//!   and the exported span share ids).
//!
//! Written by hand rather than through `tracing_subscriber::fmt().json()`
//! because ECS wants dotted top-level names (`log.level`, not `level`) and
//! the trace ids of the OpenTelemetry span, which `fmt` does not know about.

use std::fmt::Write as _;
use std::io::Write as _;

use tracing::field::{Field, Visit};
use tracing::span::{Attributes, Id, Record};
use tracing::{Event, Level, Subscriber};
use tracing_opentelemetry::OtelData;
use tracing_subscriber::fmt::MakeWriter;
use tracing_subscriber::layer::{Context, Layer};
use tracing_subscriber::registry::LookupSpan;

/// The ECS version the field names follow.
pub const ECS_VERSION: &str = "8.11.0";

/// Writes events as ECS JSON lines to `W`.
#[derive(Debug)]
pub struct EcsLayer<W> {
    make_writer: W,
    /// `"service.name":…,"service.version":…,"event.dataset":…,"process.pid":…`, pre-rendered.
    service: String,
}

impl<W> EcsLayer<W>
where
    W: for<'w> MakeWriter<'w> + 'static,
{
    /// A layer naming the service `service_name` at `service_version`.
    pub fn new(make_writer: W, service_name: &str, service_version: &str) -> Self {
        let mut service = String::new();
        push_pair(&mut service, "ecs.version", ECS_VERSION);
        push_pair(&mut service, "service.name", service_name);
        push_pair(&mut service, "service.version", service_version);
        push_pair(&mut service, "event.dataset", &format!("{service_name}.log"));
        let _ = write!(service, ",\"process.pid\":{}", std::process::id());
        EcsLayer { make_writer, service }
    }
}

/// A span's fields, rendered once as `,"key":value` pairs.
#[derive(Debug, Default)]
struct SpanFields(String);

impl<S, W> Layer<S> for EcsLayer<W>
where
    S: Subscriber + for<'a> LookupSpan<'a>,
    W: for<'w> MakeWriter<'w> + 'static,
{
    fn on_new_span(&self, attrs: &Attributes<'_>, id: &Id, ctx: Context<'_, S>) {
        let Some(span) = ctx.span(id) else { return };
        let mut fields = SpanFields::default();
        attrs.record(&mut JsonFields { out: &mut fields.0, message: None });
        span.extensions_mut().insert(fields);
    }

    fn on_record(&self, id: &Id, values: &Record<'_>, ctx: Context<'_, S>) {
        let Some(span) = ctx.span(id) else { return };
        let mut extensions = span.extensions_mut();
        if let Some(fields) = extensions.get_mut::<SpanFields>() {
            values.record(&mut JsonFields { out: &mut fields.0, message: None });
        }
    }

    fn on_event(&self, event: &Event<'_>, ctx: Context<'_, S>) {
        let meta = event.metadata();
        let mut fields = String::new();
        let mut message = None;
        event.record(&mut JsonFields { out: &mut fields, message: Some(&mut message) });

        let mut line = String::with_capacity(256 + fields.len());
        line.push('{');
        let now = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
        line.push_str("\"@timestamp\":");
        push_json_str(&mut line, &now);
        push_pair(&mut line, "log.level", level_name(*meta.level()));
        push_pair(&mut line, "message", message.as_deref().unwrap_or(""));
        line.push_str(&self.service);
        push_pair(&mut line, "log.logger", meta.target());
        if let Some(name) = std::thread::current().name() {
            push_pair(&mut line, "process.thread.name", name);
        }
        if let Some(scope) = ctx.event_scope(event) {
            let mut ids_written = false;
            let mut span_fields = String::new();
            // Innermost first: the ids are the innermost span's; fields are
            // written outermost first so inner values follow (and win in
            // parsers that keep the last duplicate).
            let mut inner_to_outer = Vec::new();
            for span in scope {
                let extensions = span.extensions();
                if !ids_written && let Some(otel) = extensions.get::<OtelData>() {
                    if let (Some(trace), Some(span_id)) = (otel.trace_id(), otel.span_id()) {
                        push_pair(&mut line, "trace.id", &trace.to_string());
                        push_pair(&mut line, "span.id", &span_id.to_string());
                    }
                    ids_written = true;
                }
                if let Some(f) = extensions.get::<SpanFields>() {
                    inner_to_outer.push(f.0.clone());
                }
            }
            for f in inner_to_outer.iter().rev() {
                span_fields.push_str(f);
            }
            line.push_str(&span_fields);
        }
        line.push_str(&fields);
        line.push_str("}\n");
        // One write call per line, so concurrent writers do not interleave.
        let _ = self.make_writer.make_writer_for(meta).write_all(line.as_bytes());
    }
}

fn level_name(level: Level) -> &'static str {
    match level {
        Level::ERROR => "error",
        Level::WARN => "warn",
        Level::INFO => "info",
        Level::DEBUG => "debug",
        Level::TRACE => "trace",
    }
}

/// Appends `,"key":"value"`.
fn push_pair(out: &mut String, key: &str, value: &str) {
    out.push(',');
    push_json_str(out, key);
    out.push(':');
    push_json_str(out, value);
}

fn push_json_str(out: &mut String, s: &str) {
    // serde_json's escaping, without an intermediate allocation per value.
    match serde_json::to_string(s) {
        Ok(quoted) => out.push_str(&quoted),
        Err(_) => out.push_str("\"\""),
    }
}

/// ECS name of a `tracing` field.
fn ecs_key(name: &str) -> &str {
    match name {
        "error" => "error.message",
        other => other,
    }
}

/// Renders fields as `,"key":value` pairs; the `message` field goes aside.
struct JsonFields<'a> {
    out: &'a mut String,
    message: Option<&'a mut Option<String>>,
}

impl JsonFields<'_> {
    fn raw(&mut self, field: &Field, value: std::fmt::Arguments<'_>) {
        self.out.push(',');
        push_json_str(self.out, ecs_key(field.name()));
        self.out.push(':');
        let _ = self.out.write_fmt(value);
    }
}

impl Visit for JsonFields<'_> {
    fn record_str(&mut self, field: &Field, value: &str) {
        if field.name() == "message"
            && let Some(message) = self.message.as_mut()
        {
            **message = Some(value.to_owned());
            return;
        }
        push_pair(self.out, ecs_key(field.name()), value);
    }

    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        // `message` arrives here as format_args!: render it as text.
        let text = format!("{value:?}");
        self.record_str(field, &text);
    }

    fn record_error(&mut self, field: &Field, value: &(dyn std::error::Error + 'static)) {
        let mut text = value.to_string();
        let mut source = value.source();
        while let Some(s) = source {
            let _ = write!(text, ": {s}");
            source = s.source();
        }
        push_pair(self.out, "error.message", &text);
        let _ = field;
    }

    fn record_i64(&mut self, field: &Field, value: i64) {
        self.raw(field, format_args!("{value}"));
    }

    fn record_u64(&mut self, field: &Field, value: u64) {
        self.raw(field, format_args!("{value}"));
    }

    fn record_bool(&mut self, field: &Field, value: bool) {
        self.raw(field, format_args!("{value}"));
    }

    fn record_f64(&mut self, field: &Field, value: f64) {
        if value.is_finite() {
            self.raw(field, format_args!("{value}"));
        } else {
            // JSON has no NaN or infinities.
            self.record_str(field, &value.to_string());
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::{Arc, Mutex};

    use opentelemetry::trace::TracerProvider as _;
    use tracing_subscriber::layer::SubscriberExt;

    use super::*;

    /// Collects everything written, for inspection.
    #[derive(Clone, Default)]
    struct Buffer(Arc<Mutex<Vec<u8>>>);

    impl std::io::Write for Buffer {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    impl<'w> MakeWriter<'w> for Buffer {
        type Writer = Buffer;
        fn make_writer(&'w self) -> Buffer {
            self.clone()
        }
    }

    impl Buffer {
        fn lines(&self) -> Vec<serde_json::Value> {
            let bytes = self.0.lock().unwrap().clone();
            String::from_utf8(bytes)
                .unwrap()
                .lines()
                .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}")))
                .collect()
        }
    }

    #[derive(Debug, thiserror::Error)]
    #[error("bulk request failed")]
    struct Outer(#[source] std::io::Error);

    #[test]
    fn events_carry_ecs_names_span_fields_and_errors() {
        let buffer = Buffer::default();
        let subscriber =
            tracing_subscriber::registry().with(EcsLayer::new(buffer.clone(), "porttrack", "1.2.3"));
        tracing::subscriber::with_default(subscriber, || {
            let span = tracing::info_span!("batch", records = 12_u64, topic = "ais.positions");
            let _entered = span.enter();
            let err = Outer(std::io::Error::other("connection refused"));
            tracing::warn!(
                error = &err as &(dyn std::error::Error + 'static),
                sink = "postgres",
                attempt = 2,
                "sink write failed; \"retrying\""
            );
            tracing::info!(ratio = 0.5, ok = true, "plain");
        });
        let lines = buffer.lines();
        assert_eq!(lines.len(), 2);
        let warn = &lines[0];
        assert_eq!(warn["log.level"], "warn");
        assert_eq!(warn["message"], "sink write failed; \"retrying\"");
        assert_eq!(warn["service.name"], "porttrack");
        assert_eq!(warn["service.version"], "1.2.3");
        assert_eq!(warn["event.dataset"], "porttrack.log");
        assert_eq!(warn["ecs.version"], ECS_VERSION);
        assert_eq!(warn["log.logger"], module_path!());
        assert_eq!(warn["error.message"], "bulk request failed: connection refused");
        assert_eq!(warn["sink"], "postgres");
        assert_eq!(warn["attempt"], 2);
        assert_eq!(warn["records"], 12, "span fields are included");
        assert_eq!(warn["topic"], "ais.positions");
        let ts = warn["@timestamp"].as_str().unwrap();
        assert!(chrono::DateTime::parse_from_rfc3339(ts).is_ok() && ts.ends_with('Z'), "{ts}");
        assert!(warn.get("trace.id").is_none(), "no trace ids without OpenTelemetry");
        assert_eq!(lines[1]["ratio"], 0.5);
        assert_eq!(lines[1]["ok"], true);
        // @timestamp leads the line, for humans reading raw output.
        let raw = String::from_utf8(buffer.0.lock().unwrap().clone()).unwrap();
        assert!(raw.starts_with("{\"@timestamp\":"), "{raw}");
    }

    #[test]
    fn inside_a_span_lines_carry_the_open_telemetry_trace_and_span_ids() {
        let buffer = Buffer::default();
        let provider = opentelemetry_sdk::trace::SdkTracerProvider::builder().build();
        let subscriber = tracing_subscriber::registry()
            .with(tracing_opentelemetry::layer().with_tracer(provider.tracer("test")))
            .with(EcsLayer::new(buffer.clone(), "porttrack", "0"));
        let (trace_id, span_id) = tracing::subscriber::with_default(subscriber, || {
            use opentelemetry::trace::TraceContextExt as _;
            use tracing_opentelemetry::OpenTelemetrySpanExt as _;
            tracing::info!("outside");
            let span = tracing::info_span!("batch");
            let _entered = span.enter();
            tracing::info!("inside");
            let cx = span.context();
            let sc = cx.span().span_context().clone();
            (sc.trace_id().to_string(), sc.span_id().to_string())
        });
        let lines = buffer.lines();
        assert!(lines[0].get("trace.id").is_none(), "outside any span: {}", lines[0]);
        assert_eq!(lines[1]["trace.id"], trace_id.as_str());
        assert_eq!(lines[1]["span.id"], span_id.as_str());
        assert_eq!(trace_id.len(), 32);
        assert_ne!(trace_id, "0".repeat(32));
    }

    #[test]
    fn non_finite_numbers_stay_valid_json() {
        let buffer = Buffer::default();
        let subscriber = tracing_subscriber::registry().with(EcsLayer::new(buffer.clone(), "porttrack", "0"));
        tracing::subscriber::with_default(subscriber, || tracing::info!(lag = f64::NAN, "odd"));
        assert_eq!(buffer.lines()[0]["lag"], "NaN");
    }
}
