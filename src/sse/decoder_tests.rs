use super::*;

use proptest::prelude::*;

/// Everything observable after feeding `chunks` and finishing: the event
/// sequence (errors included), the last event ID, the retry delay and the
/// comment count.
#[derive(Debug, PartialEq)]
struct Outcome {
    events: Vec<Result<Event, DecodeError>>,
    last_event_id: Option<String>,
    retry: Option<Duration>,
    comments: u64,
}

fn run_with(limits: Limits, chunks: &[&[u8]]) -> Outcome {
    let mut decoder = Decoder::with_limits(limits);
    for chunk in chunks {
        decoder.push(chunk);
    }
    decoder.finish();
    let events = std::iter::from_fn(|| decoder.next_event()).collect();
    Outcome {
        events,
        last_event_id: decoder.last_event_id().map(str::to_owned),
        retry: decoder.retry(),
        comments: decoder.comments_seen(),
    }
}

fn run(chunks: &[&[u8]]) -> Outcome {
    run_with(Limits::default(), chunks)
}

/// The events of a stream that must decode without error.
fn decode_all(chunks: &[&[u8]]) -> Vec<Event> {
    run(chunks)
        .events
        .into_iter()
        .map(|event| event.expect("no limit is exceeded"))
        .collect()
}

fn event(event: &str, data: &str, id: Option<&str>) -> Event {
    Event {
        event: Cow::Owned(event.to_owned()),
        data: data.into(),
        id: id.map(ByteString::from),
    }
}

fn message(data: &str) -> Event {
    event("message", data, None)
}

fn data_of(chunks: &[&[u8]]) -> Vec<String> {
    decode_all(chunks)
        .into_iter()
        .map(|event| event.data.into())
        .collect()
}

// Dployr's own stream shapes.

#[test]
fn dployr_log_stream() {
    let stream = b"data: cloning repository\n\ndata: installing nodejs@18.1.0\n\n\
                   : heartbeat\n\nevent: done\ndata: stream completed\n\n";
    let outcome = run(&[stream]);
    assert_eq!(
        outcome.events,
        vec![
            Ok(message("cloning repository")),
            Ok(message("installing nodejs@18.1.0")),
            Ok(event("done", "stream completed", None)),
        ]
    );
    assert_eq!(outcome.comments, 1);
}

#[test]
fn error_event() {
    let events = decode_all(&[b"event: error\ndata: {\"message\":\"build failed\"}\n\n"]);
    assert_eq!(
        events,
        vec![event("error", "{\"message\":\"build failed\"}", None)]
    );
    assert!(!events[0].is_message());
}

#[test]
fn multi_line_data_is_joined_with_newlines() {
    let events = decode_all(&[b"data: step 1\ndata: step 2\ndata:\ndata: step 4\n\n"]);
    assert_eq!(events, vec![message("step 1\nstep 2\n\nstep 4")]);
}

#[test]
fn id_persists_across_events_until_changed() {
    let outcome = run(&[b"id: 7\ndata: a\n\ndata: b\n\nid\ndata: c\n\nid: 9\ndata: d\n\n"]);
    let ids: Vec<_> = outcome
        .events
        .iter()
        .map(|event| event.as_ref().unwrap().id.as_deref())
        .collect();
    // A bare `id` line resets the ID to empty.
    assert_eq!(ids, [Some("7"), Some("7"), Some(""), Some("9")]);
    assert_eq!(outcome.last_event_id.as_deref(), Some("9"));
}

#[test]
fn retry_sets_reconnection_delay() {
    let mut decoder = Decoder::new();
    assert_eq!(decoder.retry(), None);
    decoder.push(b"retry: 3000\n");
    assert_eq!(decoder.retry(), Some(Duration::from_secs(3)));
    decoder.push(b"retry: 3s\nretry: -1\nretry: \nretry: 1 0\nretry: 3000.5\n");
    assert_eq!(decoder.retry(), Some(Duration::from_secs(3)));
    decoder.push(b"retry:250\n");
    assert_eq!(decoder.retry(), Some(Duration::from_millis(250)));
    decoder.push(b"retry: 99999999999999999999999999\n");
    assert_eq!(decoder.retry(), Some(Duration::from_millis(u64::MAX)));
    assert_eq!(decoder.next_event(), None, "retry alone dispatches nothing");
}

// Rule 1: UTF-8 decoding.

#[test]
fn invalid_utf8_is_replaced_not_an_error() {
    let events = decode_all(&[b"event: t\xFF\ndata: a\xFFb\xC3(\xE2\x82\nid: \xF0\x9F\n\n"]);
    assert_eq!(
        events,
        vec![event(
            "t\u{FFFD}",
            "a\u{FFFD}b\u{FFFD}(\u{FFFD}",
            Some("\u{FFFD}")
        )]
    );
}

#[test]
fn lines_after_an_invalid_one_decode_normally() {
    assert_eq!(
        data_of(&[b"data: \xFF\n\ndata: caf\xC3\xA9\n\ndata: \xC3\n\ndata: ok\n\n"]),
        ["\u{FFFD}", "café", "\u{FFFD}", "ok"]
    );
}

#[test]
fn character_split_across_pushes() {
    let expected = ["café ☃", "ok"];
    assert_eq!(
        data_of(&[b"data: caf\xC3", b"\xA9 \xE2\x98", b"\x83\n\ndata: ok\n\n"]),
        expected
    );
    // The split character is the tail of a chunk that also holds whole lines.
    assert_eq!(
        data_of(&[
            b"data: x\n\ndata: caf\xC3",
            b"\xA9 \xE2\x98\x83\n\ndata: ok\n\n"
        ]),
        ["x", expected[0], expected[1]]
    );
    let stream = "data: café ☃\n\ndata: ok\n\n".as_bytes();
    let one_byte: Vec<&[u8]> = stream.chunks(1).collect();
    assert_eq!(data_of(&one_byte), expected);
}

// Rule 2: byte order mark.

#[test]
fn leading_bom_is_stripped() {
    assert_eq!(data_of(&[b"\xEF\xBB\xBFdata: x\n\n"]), ["x"]);
    assert_eq!(data_of(&[b"\xEF", b"\xBB", b"\xBF", b"data: x\n\n"]), ["x"]);
    assert_eq!(data_of(&[b"", b"\xEF\xBB", b"\xBFdata: x\n\n"]), ["x"]);
}

#[test]
fn only_one_bom_is_stripped() {
    // The second BOM becomes part of the field name, which then matches nothing.
    assert_eq!(
        data_of(&[b"\xEF\xBB\xBF\xEF\xBB\xBFdata: x\n\ndata: y\n\n"]),
        ["y"]
    );
    assert_eq!(
        data_of(&[b"\xEF\xBB\xBFdata: \xEF\xBB\xBFx\n\n"]),
        ["\u{FEFF}x"]
    );
    assert_eq!(data_of(&[b"data: x\n\n\xEF\xBB\xBFdata: y\n\n"]), ["x"]);
}

#[test]
fn partial_bom_is_content() {
    // The prefix is an invalid sequence starting the first line, so that line
    // is a field nobody knows, not a blank line.
    assert_eq!(data_of(&[b"\xEF\xBB\ndata: x\n\n"]), ["x"]);
    assert_eq!(data_of(&[b"\xEF", b"\xBBdata: x\n\ndata: y\n\n"]), ["y"]);
    assert_eq!(data_of(&[b"\xEF\xBB\n\ndata: y\n\n"]), ["y"]);
}

// Rule 3: line terminators.

#[test]
fn all_line_terminators() {
    assert_eq!(
        data_of(&[b"data: lf\n\ndata: crlf\r\n\r\ndata: cr\r\rdata: a\r\ndata: b\n\r"]),
        ["lf", "crlf", "cr", "a\nb"]
    );
}

#[test]
fn crlf_split_across_pushes_is_one_line_end() {
    // Were the LF a second line end, "a" would be dispatched on its own.
    assert_eq!(data_of(&[b"data: a\r", b"\ndata: b\r\n\r\n"]), ["a\nb"]);
    assert_eq!(
        data_of(&[b"data: a\r", b"", b"\ndata: b\r", b"\n\r", b"\n"]),
        ["a\nb"]
    );
}

#[test]
fn cr_then_other_byte_in_next_push() {
    assert_eq!(data_of(&[b"data: a\r", b"data: b\r", b"\r"]), ["a\nb"]);
}

#[test]
fn cr_at_end_of_input_ends_the_line() {
    assert_eq!(data_of(&[b"data: a\n\r"]), ["a"]);
    assert_eq!(data_of(&[b"data: a\r\r"]), ["a"]);
}

// Rule 4: line kinds.

#[test]
fn comments_are_counted_not_dispatched() {
    let outcome = run(&[b": heartbeat\n:\n:data: x\n\n"]);
    assert_eq!(outcome.events, vec![]);
    assert_eq!(outcome.comments, 3);
}

#[test]
fn field_and_value_split_at_first_colon() {
    assert_eq!(data_of(&[b"data:a: b\n\n"]), ["a: b"]);
    assert_eq!(data_of(&[b"data::\n\n"]), [":"]);
}

#[test]
fn exactly_one_leading_space_is_removed() {
    assert_eq!(
        data_of(&[b"data:x\n\ndata: x\n\ndata:  x\n\ndata:\tx\n\n"]),
        ["x", "x", " x", "\tx"]
    );
}

#[test]
fn line_without_colon_is_a_field_with_empty_value() {
    assert_eq!(data_of(&[b"data\n\n"]), [""]);
    assert_eq!(data_of(&[b"data\ndata\n\n"]), ["\n"]);
    assert_eq!(data_of(&[b"event\ndata: x\n\n"]), ["x"]);
}

// Rule 5: fields.

#[test]
fn event_field_sets_type_and_empty_means_message() {
    let events = decode_all(&[b"event: a\nevent: b\ndata: 1\n\nevent:\ndata: 2\n\n"]);
    assert_eq!(events, vec![event("b", "1", None), message("2")]);
    assert!(events[1].is_message());
}

#[test]
fn id_with_nul_is_ignored() {
    let events = decode_all(&[b"id: 1\nid: 2\0\ndata: x\n\n"]);
    assert_eq!(events, vec![event("message", "x", Some("1"))]);
}

#[test]
fn an_empty_id_clears_the_id_and_differs_from_none() {
    let outcome = run(&[b"data: a\n\nid: 3\ndata: b\n\nid:\ndata: c\n\n"]);
    let ids: Vec<_> = outcome
        .events
        .iter()
        .map(|event| event.as_ref().unwrap().id.as_deref())
        .collect();
    assert_eq!(ids, [None, Some("3"), Some("")]);
    assert_eq!(outcome.last_event_id.as_deref(), Some(""));
    assert_eq!(run(&[b"data: a\n\n"]).last_event_id, None);
}

#[test]
fn unknown_and_case_mismatched_fields_are_ignored() {
    let outcome = run(&[b"Data: x\nDATA: y\nfoo: bar\n data: z\nEvent: e\n\n"]);
    assert_eq!(outcome.events, vec![]);
    assert_eq!(outcome.comments, 0);
}

// Rule 6: dispatch.

#[test]
fn empty_data_buffer_dispatches_nothing_but_commits_id() {
    let outcome = run(&[b"id: 5\nevent: ignored\n\ndata: x\n\n"]);
    assert_eq!(outcome.events, vec![Ok(event("message", "x", Some("5")))]);
    assert_eq!(outcome.last_event_id.as_deref(), Some("5"));
}

#[test]
fn only_one_trailing_newline_is_removed() {
    assert_eq!(data_of(&[b"data:\ndata:\n\n"]), ["\n"]);
    assert_eq!(data_of(&[b"data: a\ndata:\n\n"]), ["a\n"]);
}

#[test]
fn type_resets_after_dispatch_but_id_does_not() {
    let events = decode_all(&[b"id: 1\nevent: a\ndata: x\n\ndata: y\n\n"]);
    assert_eq!(
        events,
        vec![event("a", "x", Some("1")), event("message", "y", Some("1"))]
    );
}

#[test]
fn events_are_available_as_soon_as_dispatched() {
    let mut decoder = Decoder::default();
    decoder.push(b"data: a\n");
    assert_eq!(decoder.next_event(), None);
    decoder.push(b"\ndata: b");
    assert_eq!(decoder.next_event(), Some(Ok(message("a"))));
    assert_eq!(decoder.next_event(), None);
}

#[test]
fn values_within_one_chunk_share_its_memory() {
    let chunk = Bytes::from_static(b"id: 41\ndata: first\n\ndata: a\ndata: b\n\n");
    let within = |text: &ByteString| {
        let range = chunk.as_ptr_range();
        range.contains(&text.as_ptr()) && text.as_bytes().as_ptr_range().end <= range.end
    };
    let mut decoder = Decoder::new();
    decoder.push_bytes(chunk.clone());
    let first = decoder.next_event().unwrap().unwrap();
    assert_eq!((&*first.data, first.id.as_deref()), ("first", Some("41")));
    assert!(within(&first.data) && first.id.as_ref().is_some_and(within));
    // Joined lines are a new string, equal to the same stream pushed as a slice.
    let joined = decoder.next_event().unwrap().unwrap();
    assert_eq!(joined.data, "a\nb");
    assert!(!within(&joined.data));
    let mut copied = Decoder::new();
    copied.push(&chunk);
    assert_eq!(copied.next_event(), Some(Ok(first)));
    assert_eq!(copied.next_event(), Some(Ok(joined)));
}

// Rule 7: end of input.

#[test]
fn finish_discards_incomplete_event_and_line() {
    let outcome = run(&[b"data: a\n\nid: 2\ndata: b\n", b"data: c"]);
    assert_eq!(outcome.events, vec![Ok(message("a"))]);
    assert_eq!(
        outcome.last_event_id, None,
        "the pending ID is never committed"
    );
}

#[test]
fn push_after_finish_is_ignored() {
    let mut decoder = Decoder::new();
    decoder.push(b"data: a\n\n");
    decoder.finish();
    decoder.push(b"data: b\n\n");
    assert_eq!(decoder.next_event(), Some(Ok(message("a"))));
    assert_eq!(decoder.next_event(), None);
}

// Not a rule of the standard: what `finish` would discard, shown on request.

#[test]
fn unterminated_event_is_the_event_a_blank_line_would_dispatch() {
    let mut decoder = Decoder::new();
    decoder.push(b"id: 4\ndata: a\n\nid: 5\nevent: done\ndata: stream\ndata: completed\n");
    assert_eq!(
        decoder.next_event(),
        Some(Ok(event("message", "a", Some("4"))))
    );
    assert_eq!(decoder.next_event(), None);
    let pending = event("done", "stream\ncompleted", Some("5"));
    assert_eq!(decoder.unterminated_event(), Some(pending.clone()));
    assert_eq!(
        decoder.last_event_id(),
        Some("4"),
        "the pending ID stays uncommitted"
    );
    // Asking changed nothing: the blank line dispatches the same event.
    decoder.push(b"\n");
    assert_eq!(decoder.next_event(), Some(Ok(pending)));
    assert_eq!(decoder.unterminated_event(), None);
}

#[test]
fn unterminated_event_needs_every_line_whole() {
    let pending = |chunks: &[&[u8]]| {
        let mut decoder = Decoder::new();
        for chunk in chunks {
            decoder.push(chunk);
        }
        decoder.unterminated_event()
    };
    let done = Some(event("done", "ok", None));
    assert_eq!(pending(&[b"event: done\ndata: ok\n"]), done);
    assert_eq!(pending(&[b"event: done\r\ndata: ok\r"]), done);
    assert_eq!(pending(&[b"event: done\ndata: ok\r", b"\n"]), done);
    // The last line has no terminator: its value may be cut short.
    assert_eq!(pending(&[b"event: done\ndata: ok"]), None);
    assert_eq!(pending(&[b"event: done\ndata: ok\n", b"data: mo"]), None);
    // Without data a blank line would dispatch nothing either.
    assert_eq!(pending(&[b"event: done\nid: 2\n"]), None);
    assert_eq!(pending(&[b"data: a\n\n"]), None);
    assert_eq!(pending(&[b""]), None);
    assert_eq!(pending(&[b"\xEF\xBB"]), None);
    // The type is the default one without an `event` field.
    assert_eq!(pending(&[b"data: x\n"]), Some(message("x")));
}

#[test]
fn finish_still_discards_the_unterminated_event() {
    let mut decoder = Decoder::new();
    decoder.push(b"event: done\ndata: ok\n");
    assert!(decoder.unterminated_event().is_some());
    decoder.finish();
    assert_eq!(decoder.unterminated_event(), None);
    assert_eq!(decoder.next_event(), None);
    // A failed decoder has nothing pending either.
    let mut failed = Decoder::with_limits(limits(100, 3));
    failed.push(b"data: ab\ndata: cd\n");
    assert_eq!(failed.unterminated_event(), None);
}

// Rule 8: limits.

fn limits(max_line: usize, max_event: usize) -> Limits {
    Limits {
        max_line,
        max_event,
    }
}

#[test]
fn default_limits() {
    assert_eq!(Decoder::new().limits(), Limits::default());
    assert_eq!(Limits::default(), limits(1 << 20, 1 << 20));
}

#[test]
fn line_at_the_limit_is_accepted() {
    let outcome = run_with(limits(8, 8), &[b"data: 12\n\n"]);
    assert_eq!(outcome.events, vec![Ok(message("12"))]);
}

#[test]
fn too_long_line_fails_after_earlier_events() {
    let error = DecodeError::LineTooLong { limit: 8 };
    for chunks in [
        &[&b"data: a\n\ndata: 123\n\ndata: b\n\n"[..]][..],
        &[b"data: a\n\nda", b"ta: 123\n"],
    ] {
        let outcome = run_with(limits(8, 100), chunks);
        assert_eq!(outcome.events, vec![Ok(message("a")), Err(error.clone())]);
    }
}

#[test]
fn unterminated_line_is_bounded() {
    let mut decoder = Decoder::with_limits(limits(16, 100));
    for _ in 0..16 {
        decoder.push(b"x");
    }
    assert_eq!(decoder.next_event(), None);
    decoder.push(b"x");
    assert_eq!(
        decoder.next_event(),
        Some(Err(DecodeError::LineTooLong { limit: 16 }))
    );
    assert_eq!(decoder.partial.capacity(), 0, "the buffer is released");
}

#[test]
fn too_large_event_fails() {
    let error = DecodeError::EventTooLarge { limit: 5 };
    // Joined data "ab\ncd" is exactly 5 bytes.
    let ok = run_with(limits(100, 5), &[b"data: ab\ndata: cd\n\n"]);
    assert_eq!(ok.events, vec![Ok(message("ab\ncd"))]);
    let too_big = run_with(limits(100, 5), &[b"data: ab\ndata: cde\n\n"]);
    assert_eq!(too_big.events, vec![Err(error.clone())]);
    // Replacement characters count at their decoded size.
    let replaced = run_with(limits(100, 5), &[b"data: \xFF\xFF\n\n"]);
    assert_eq!(replaced.events, vec![Err(error)]);
}

#[test]
fn error_is_reported_once_and_decoder_stays_failed() {
    let mut decoder = Decoder::with_limits(limits(4, 4));
    decoder.push(b"data: x\n");
    let error = DecodeError::LineTooLong { limit: 4 };
    assert_eq!(decoder.next_event(), Some(Err(error)));
    assert_eq!(decoder.next_event(), None);
    decoder.push(b"\n\nid\n\n");
    decoder.finish();
    assert_eq!(decoder.next_event(), None);
}

#[test]
fn error_messages_name_the_limit_to_raise() {
    let line = DecodeError::LineTooLong { limit: 1024 }.to_string();
    assert!(
        line.contains("1024 bytes") && line.contains("Limits::max_line"),
        "{line}"
    );
    let event = DecodeError::EventTooLarge { limit: 7 }.to_string();
    assert!(
        event.contains("7 bytes") && event.contains("Limits::max_event"),
        "{event}"
    );
    let _: &dyn std::error::Error = &DecodeError::EventTooLarge { limit: 7 };
}

// Property tests: chunking never changes the result, and memory stays bounded.

/// Bytes built from fragments that exercise every rule, plus arbitrary bytes.
fn stream() -> impl Strategy<Value = Vec<u8>> {
    let fragment = prop_oneof![
        Just(&b"data:"[..]),
        Just(&b"data: "[..]),
        Just(&b"event: "[..]),
        Just(&b"id: "[..]),
        Just(&b"retry: "[..]),
        Just(&b"3000"[..]),
        Just(&b"x"[..]),
        Just(&b"\xC3\xA9"[..]),
        Just(&b"\xE2\x98\x83"[..]),
        Just(&b"\xFF"[..]),
        Just(&b"\xE2\x82"[..]),
        Just(&b"\xEF\xBB\xBF"[..]),
        Just(&b"\0"[..]),
        Just(&b" "[..]),
        Just(&b":"[..]),
        Just(&b"\r"[..]),
        Just(&b"\n"[..]),
        Just(&b"\r\n"[..]),
    ]
    .prop_map(<[u8]>::to_vec);
    let any_bytes = proptest::collection::vec(any::<u8>(), 0..4);
    proptest::collection::vec(prop_oneof![4 => fragment, 1 => any_bytes], 0..80)
        .prop_map(|parts| parts.concat())
}

fn split<'a>(bytes: &'a [u8], cuts: &[usize]) -> Vec<&'a [u8]> {
    let mut cuts: Vec<usize> = cuts.iter().map(|cut| cut % (bytes.len() + 1)).collect();
    cuts.sort_unstable();
    let mut chunks = Vec::new();
    let mut start = 0;
    for cut in cuts {
        chunks.push(&bytes[start..cut]);
        start = cut;
    }
    chunks.push(&bytes[start..]);
    chunks
}

/// A direct transcription of the standard's algorithm: decode the whole
/// stream, then split lines, with none of the decoder's incremental machinery.
fn reference(bytes: &[u8]) -> Outcome {
    let text = String::from_utf8_lossy(bytes);
    let text = text.strip_prefix('\u{FEFF}').unwrap_or(&text);
    let mut lines = Vec::new();
    let mut line = String::new();
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\r' | '\n' => {
                if c == '\r' && chars.peek() == Some(&'\n') {
                    chars.next();
                }
                lines.push(mem::take(&mut line));
            }
            c => line.push(c),
        }
    }
    let mut outcome = Outcome {
        events: Vec::new(),
        last_event_id: None,
        retry: None,
        comments: 0,
    };
    let (mut data, mut event_type) = (String::new(), String::new());
    let mut id: Option<String> = None;
    for line in lines {
        if line.is_empty() {
            outcome.last_event_id = id.clone();
            if !data.is_empty() {
                data.pop();
                let event_type = mem::take(&mut event_type);
                outcome.events.push(Ok(Event {
                    event: if event_type.is_empty() {
                        "message".into()
                    } else {
                        event_type.into()
                    },
                    data: mem::take(&mut data).into(),
                    id: id.as_deref().map(ByteString::from),
                }));
            }
            data.clear();
            event_type.clear();
            continue;
        }
        if line.starts_with(':') {
            outcome.comments += 1;
            continue;
        }
        let (field, value) = match line.find(':') {
            Some(colon) => (&line[..colon], &line[colon + 1..]),
            None => (&line[..], ""),
        };
        let value = value.strip_prefix(' ').unwrap_or(value);
        match field {
            "event" => event_type = value.to_owned(),
            "data" => {
                data.push_str(value);
                data.push('\n');
            }
            "id" if !value.contains('\0') => id = Some(value.to_owned()),
            "retry" if !value.is_empty() && value.bytes().all(|b| b.is_ascii_digit()) => {
                // All digits, so only overflow can fail, which the decoder saturates.
                outcome.retry = Some(Duration::from_millis(value.parse().unwrap_or(u64::MAX)));
            }
            _ => {}
        }
    }
    outcome
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn chunking_does_not_change_the_outcome(
        bytes in stream(),
        cuts in proptest::collection::vec(any::<usize>(), 0..12),
        max_line in 0usize..40,
        max_event in 0usize..60,
    ) {
        prop_assert_eq!(&run(&[&bytes]), &reference(&bytes));
        for limits in [Limits::default(), limits(max_line, max_event)] {
            let whole = run_with(limits, &[&bytes]);
            prop_assert_eq!(&run_with(limits, &split(&bytes, &cuts)), &whole);
            let one_byte: Vec<&[u8]> = bytes.chunks(1).collect();
            prop_assert_eq!(&run_with(limits, &one_byte), &whole);
        }
    }

    #[test]
    fn unterminated_event_matches_what_a_blank_line_dispatches(
        bytes in stream(),
        cuts in proptest::collection::vec(any::<usize>(), 0..12),
        max_line in 0usize..40,
        max_event in 0usize..60,
    ) {
        for limits in [Limits::default(), limits(max_line, max_event)] {
            let mut decoder = Decoder::with_limits(limits);
            for chunk in split(&bytes, &cuts) {
                decoder.push(chunk);
            }
            while decoder.next_event().is_some() {}
            let pending = decoder.unterminated_event();
            if !decoder.partial.is_empty() {
                prop_assert_eq!(pending, None);
                continue;
            }
            // CRLF is one blank line even right after a lone CR.
            let mut blank = decoder.clone();
            blank.push(b"\r\n");
            let dispatched: Vec<_> = std::iter::from_fn(|| blank.next_event()).collect();
            prop_assert_eq!(dispatched, pending.map(Ok).into_iter().collect::<Vec<_>>());
        }
    }

    #[test]
    fn buffers_stay_within_limits(
        bytes in proptest::collection::vec(
            prop_oneof![Just(b'x'), Just(b'\n'), Just(b':'), any::<u8>()],
            0..600,
        ),
        prefix in prop_oneof![Just(&b""[..]), Just(&b"data:"[..])],
        cuts in proptest::collection::vec(any::<usize>(), 0..20),
        max_line in 0usize..64,
        max_event in 0usize..64,
    ) {
        let bytes = [prefix, &bytes].concat();
        let mut decoder = Decoder::with_limits(limits(max_line, max_event));
        for chunk in split(&bytes, &cuts) {
            decoder.push(chunk);
            // Vec growth at most doubles, and never allocates fewer than 8 bytes.
            prop_assert!(decoder.partial.len() <= max_line);
            prop_assert!(decoder.partial.capacity() <= (2 * max_line).max(8));
            prop_assert!(decoder.data.len() <= max_event);
            if let Data::Joined(joined) = &decoder.data {
                prop_assert!(joined.capacity() <= (2 * max_event).max(8));
            }
            while let Some(event) = decoder.next_event() {
                if let Ok(event) = event {
                    prop_assert!(event.data.len() <= max_event);
                }
            }
        }
    }
}
