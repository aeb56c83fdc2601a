//! Arbitrary bytes, cut into arbitrary chunks, through the SSE decoder with
//! small limits (so the limit paths are reached): no panic, and the outcome
//! (the unterminated last event included) is the same as for the whole input
//! pushed at once.

#![no_main]

use dployr::sse::{DecodeError, Decoder, Event, Limits};
use libfuzzer_sys::fuzz_target;

#[derive(Debug, PartialEq)]
struct Outcome {
    events: Vec<Result<Event, DecodeError>>,
    /// What `finish` discarded, when its lines were all whole.
    unterminated: Option<Event>,
    last_event_id: Option<String>,
    retry: Option<std::time::Duration>,
    comments: u64,
}

fn decode<'a>(limits: Limits, chunks: impl Iterator<Item = &'a [u8]>) -> Outcome {
    let mut decoder = Decoder::with_limits(limits);
    let mut events = Vec::new();
    // Drained after every push, as a client does; the one-shot run drains
    // once at the end, so this also checks draining early changes nothing.
    for chunk in chunks {
        decoder.push(chunk);
        events.extend(std::iter::from_fn(|| decoder.next_event()));
    }
    let unterminated = decoder.unterminated_event();
    decoder.finish();
    events.extend(std::iter::from_fn(|| decoder.next_event()));
    assert!(decoder.next_event().is_none(), "an event after the end");
    assert!(decoder.unterminated_event().is_none(), "kept after the end");
    if let Some(at) = events.iter().position(Result::is_err) {
        assert_eq!(at + 1, events.len(), "an event after the error");
    }
    Outcome {
        events,
        unterminated,
        last_event_id: decoder.last_event_id().map(str::to_owned),
        retry: decoder.retry(),
        comments: decoder.comments_seen(),
    }
}

/// Splits `bytes` into chunks of 1 to 16 bytes, lengths drawn from `seed`.
fn chunks(bytes: &[u8], mut seed: u32) -> impl Iterator<Item = &[u8]> {
    let mut rest = bytes;
    std::iter::from_fn(move || {
        if rest.is_empty() {
            return None;
        }
        // xorshift: any seed, even 0 after the `| 1`, gives varied lengths.
        seed |= 1;
        seed ^= seed << 13;
        seed ^= seed >> 17;
        seed ^= seed << 5;
        let n = (seed % 16) as usize + 1;
        let (chunk, tail) = rest.split_at(n.min(rest.len()));
        rest = tail;
        Some(chunk)
    })
}

// The first four bytes choose the limits and the chunking, the rest is the
// stream, so a corpus file is a real stream behind a 4-byte header.
fuzz_target!(|data: &[u8]| {
    let Some((header, bytes)) = data.split_first_chunk::<4>() else {
        return;
    };
    let limits = Limits::default()
        .max_line(usize::from(header[0]))
        .max_event(usize::from(header[1]) * 4);
    let seed = u32::from(u16::from_le_bytes([header[2], header[3]]));
    let whole = decode(limits, std::iter::once(bytes));
    let chunked = decode(limits, chunks(bytes, seed));
    assert_eq!(whole, chunked);
    for event in whole.events.iter().flatten() {
        assert!(event.data.len() <= limits.max_event);
    }

    // A decoder restarted for a reconnect keeps the last event id.
    let mut decoder = Decoder::with_limits(limits);
    decoder.push(bytes);
    while decoder.next_event().is_some() {}
    let last = decoder.last_event_id().map(str::to_owned);
    decoder.restart();
    assert_eq!(decoder.last_event_id(), last.as_deref());
    decoder.push(bytes);
    decoder.finish();
    while decoder.next_event().is_some() {}
});
