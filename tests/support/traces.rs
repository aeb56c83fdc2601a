//! A `tracing` subscriber that keeps what it sees: every span with its
//! fields as recorded, and every event with its fields and the span it
//! happened in, so tests can assert on what a user's subscriber would get.

use std::collections::BTreeMap;
use std::fmt::Debug;
use std::sync::{Arc, Mutex};

use tracing::field::{Field, Visit};
use tracing::span::{Attributes, Id, Record};
use tracing::{Event, Subscriber};
use tracing_subscriber::layer::{Context, SubscriberExt};
use tracing_subscriber::registry::LookupSpan;
use tracing_subscriber::Layer;

/// A span as it ended up.
#[derive(Clone, Debug, Default)]
pub struct SeenSpan {
    pub name: String,
    pub level: String,
    pub fields: BTreeMap<String, String>,
}

/// An event, with the name and id of the span it happened in.
#[derive(Clone, Debug, Default)]
pub struct SeenEvent {
    pub target: String,
    pub level: String,
    pub fields: BTreeMap<String, String>,
    pub span: Option<(String, u64)>,
}

#[derive(Clone, Default)]
pub struct Traces {
    spans: Arc<Mutex<Vec<(u64, SeenSpan)>>>,
    events: Arc<Mutex<Vec<SeenEvent>>>,
}

impl Traces {
    /// Captures everything on the current thread until the guard drops.
    pub fn capture() -> (Traces, tracing::subscriber::DefaultGuard) {
        let traces = Traces::default();
        let subscriber = tracing_subscriber::registry().with(traces.clone());
        let guard = tracing::subscriber::set_default(subscriber);
        (traces, guard)
    }

    /// Every span named `name`, with its id, in the order they opened.
    pub fn spans(&self, name: &str) -> Vec<(u64, SeenSpan)> {
        let spans = self.spans.lock().unwrap();
        spans
            .iter()
            .filter(|(_, s)| s.name == name)
            .cloned()
            .collect()
    }

    pub fn events(&self) -> Vec<SeenEvent> {
        self.events.lock().unwrap().clone()
    }

    pub fn clear(&self) {
        self.spans.lock().unwrap().clear();
        self.events.lock().unwrap().clear();
    }
}

struct Fields<'a>(&'a mut BTreeMap<String, String>);

impl Visit for Fields<'_> {
    fn record_debug(&mut self, field: &Field, value: &dyn Debug) {
        self.0
            .insert(field.name().to_string(), format!("{value:?}"));
    }

    fn record_str(&mut self, field: &Field, value: &str) {
        self.0.insert(field.name().to_string(), value.to_string());
    }
}

impl<S: Subscriber + for<'a> LookupSpan<'a>> Layer<S> for Traces {
    fn on_new_span(&self, attrs: &Attributes<'_>, id: &Id, _: Context<'_, S>) {
        let mut span = SeenSpan {
            name: attrs.metadata().name().to_string(),
            level: attrs.metadata().level().to_string(),
            fields: BTreeMap::new(),
        };
        attrs.record(&mut Fields(&mut span.fields));
        self.spans.lock().unwrap().push((id.into_u64(), span));
    }

    fn on_record(&self, id: &Id, values: &Record<'_>, _: Context<'_, S>) {
        let mut spans = self.spans.lock().unwrap();
        // Ids are reused once a span closes: the latest one with this id.
        if let Some((_, span)) = spans.iter_mut().rev().find(|(i, _)| *i == id.into_u64()) {
            values.record(&mut Fields(&mut span.fields));
        }
    }

    fn on_event(&self, event: &Event<'_>, ctx: Context<'_, S>) {
        let mut seen = SeenEvent {
            target: event.metadata().target().to_string(),
            level: event.metadata().level().to_string(),
            ..Default::default()
        };
        event.record(&mut Fields(&mut seen.fields));
        seen.span = ctx
            .event_span(event)
            .map(|span| (span.name().to_string(), span.id().into_u64()));
        self.events.lock().unwrap().push(seen);
    }
}
