//! Property tests of the wire runtime: packet reassembly, message unpacking and content
//! decoding. Inputs are arbitrary (and biased towards plausible packets so that the deep
//! checks are reached); the properties are "never panics, errors are typed, and valid
//! data always comes through intact". Case counts are kept moderate so that
//! `cargo test` stays fast; the cargo-fuzz targets in `generated-sdk/fuzz/` run the same
//! code for much longer.

use bytes::Bytes;
use meshagent_room::wire::framing::{
    encode_message, encode_message_parts, FramingError, Limits, Message, Reassembler,
    DATA_PACKET_PAYLOAD,
};
use meshagent_room::wire::packing::{pack, unpack, unpack_as, PackError, MESHAGENT_KEY};
use meshagent_room::{Content, Error};
use proptest::prelude::*;
use serde_json::{Map, Value};

fn config(cases: u32) -> ProptestConfig {
    ProptestConfig {
        cases,
        failure_persistence: None,
        ..ProptestConfig::default()
    }
}

/// Builds a header packet by hand.
fn header_packet(id: u64, count: u32, message_type: &[u8]) -> Bytes {
    [
        &id.to_be_bytes()[..],
        &0u32.to_be_bytes(),
        &count.to_be_bytes(),
        message_type,
    ]
    .concat()
    .into()
}

/// Builds a data packet by hand.
fn data_packet(id: u64, index: u32, payload: &[u8]) -> Bytes {
    [&id.to_be_bytes()[..], &index.to_be_bytes(), payload]
        .concat()
        .into()
}

/// A packet: raw bytes, or a header / data packet with plausible ids, indices and sizes.
fn packet() -> impl Strategy<Value = Bytes> {
    let id = prop_oneof![0u64..4, any::<u64>()];
    let count = prop_oneof![0u32..5, any::<u32>()];
    let index = prop_oneof![0u32..5, any::<u32>()];
    let payload_len = prop_oneof![
        Just(DATA_PACKET_PAYLOAD),
        0usize..16,
        1000usize..1100,
        0usize..1100
    ];
    prop_oneof![
        proptest::collection::vec(any::<u8>(), 0..40).prop_map(Bytes::from),
        (
            id.clone(),
            count,
            proptest::collection::vec(any::<u8>(), 0..12)
        )
            .prop_map(|(id, count, ty)| header_packet(id, count, &ty)),
        (id, index, payload_len, any::<u8>()).prop_map(|(id, index, len, fill)| data_packet(
            id,
            index,
            &vec![fill; len]
        )),
    ]
}

/// Splits `data` at the given (unsorted, possibly out-of-range) cut points.
fn split_at_cuts<'a>(data: &'a [u8], cuts: &[usize]) -> Vec<&'a [u8]> {
    let mut cuts: Vec<usize> = cuts.iter().map(|c| c % (data.len() + 1)).collect();
    cuts.sort_unstable();
    let mut parts = Vec::new();
    let mut start = 0;
    for cut in cuts {
        parts.push(&data[start..cut]);
        start = cut;
    }
    parts.push(&data[start..]);
    parts
}

/// Any JSON value, a few levels deep. Floats are limited to values that print and
/// parse back exactly, so that round trips can compare for equality.
fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        (-1000i32..1000).prop_map(|n| Value::from(f64::from(n) / 8.0)),
        ".{0,12}".prop_map(Value::String),
        prop_oneof![
            Just("type"),
            Just("json"),
            Just("text"),
            Just("code"),
            Just("3001"),
            Just(MESHAGENT_KEY)
        ]
        .prop_map(Value::from),
    ];
    leaf.prop_recursive(3, 24, 6, |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            proptest::collection::vec((key(), inner), 0..4)
                .prop_map(|kv| Value::Object(kv.into_iter().collect())),
        ]
    })
}

/// Object keys: mostly the ones content headers use, sometimes anything.
fn key() -> impl Strategy<Value = String> {
    prop_oneof![
        4 => prop_oneof![
            Just("type"), Just("json"), Just("text"), Just("name"), Just("mime_type"),
            Just("headers"), Just("code"), Just("url"), Just("outputs"), Just("method"),
            Just("status_code"), Just("message"), Just(MESHAGENT_KEY),
        ].prop_map(String::from),
        1 => ".{0,8}",
    ]
}

/// A JSON object that looks like a content header: a `type` (usually a known one)
/// plus arbitrary fields.
fn content_header() -> impl Strategy<Value = Map<String, Value>> {
    let ty = prop_oneof![
        8 => prop_oneof![
            Just("json"), Just("text"), Just("file"), Just("binary"), Just("empty"),
            Just("error"), Just("link"), Just("raw"), Just("control"),
        ].prop_map(Value::from),
        1 => json_value(),
    ];
    let method = prop_oneof![Just("open"), Just("close"), Just("pause")].prop_map(Value::from);
    (
        proptest::option::weighted(0.95, ty),
        proptest::collection::vec((key(), json_value()), 0..6),
        proptest::option::of(method),
    )
        .prop_map(|(ty, fields, method)| {
            let mut m: Map<String, Value> = fields.into_iter().collect();
            if let Some(method) = method {
                m.insert("method".into(), method);
            }
            if let Some(ty) = ty {
                m.insert("type".into(), ty);
            }
            m
        })
}

proptest! {
    #![proptest_config(config(512))]

    /// Arbitrary packet sequences never panic, every delivered message respects the
    /// limits, and after any garbage a valid message (split into parts arbitrarily) is
    /// still delivered intact.
    #[test]
    fn reassembly_survives_garbage_and_delivers_valid_messages(
        garbage in proptest::collection::vec(packet(), 0..24),
        id in any::<u64>(),
        message_type in ".{0,20}",
        data in proptest::collection::vec(any::<u8>(), 1..4000),
        cuts in proptest::collection::vec(any::<usize>(), 0..5),
    ) {
        let limits = Limits::with_max_message_size(8 << 10);
        let mut r = Reassembler::new(limits);
        for p in garbage {
            if let Ok(Some(m)) = r.push(p) {
                prop_assert!(m.data.len() <= limits.max_message_size);
                prop_assert!(r.is_idle(), "idle after a delivery");
            }
        }
        let whole = encode_message(id, &message_type, &data);
        prop_assert_eq!(
            &encode_message_parts(id, &message_type, &split_at_cuts(&data, &cuts)),
            &whole
        );
        let expected = Message { id, message_type, data: data.into() };
        let last = whole.len() - 1;
        for (i, p) in whole.into_iter().enumerate() {
            match r.push(p) {
                Ok(Some(m)) => {
                    prop_assert_eq!(i, last, "delivered early");
                    prop_assert_eq!(&m, &expected);
                }
                Ok(None) => prop_assert!(i < last, "not delivered at the last packet"),
                // Garbage can leave a message in progress; only the header may then fail.
                Err(FramingError::InterruptedByHeader { new_id, .. }) if i == 0 => {
                    prop_assert_eq!(new_id, id);
                }
                Err(e) => prop_assert!(false, "packet {} of a valid message: {}", i, e),
            }
        }
        prop_assert!(r.is_idle());
    }

    /// Several valid messages back to back, with garbage between them, all arrive.
    #[test]
    fn interleaved_valid_messages_all_arrive(
        messages in proptest::collection::vec(
            (any::<u64>(), proptest::collection::vec(any::<u8>(), 0..2500), proptest::option::of(packet())),
            1..6,
        ),
    ) {
        let mut r = Reassembler::default();
        for (id, data, garbage) in messages {
            if let Some(g) = garbage {
                let _ = r.push(g);
            }
            let packets = encode_message(id, "m", &data);
            let mut delivered = None;
            for p in packets {
                match r.push(p) {
                    Ok(Some(m)) => delivered = Some(m),
                    Ok(None) | Err(FramingError::InterruptedByHeader { .. }) => {}
                    Err(e) => prop_assert!(false, "{}", e),
                }
            }
            // An empty message interrupting garbage is dropped with the error (documented).
            if let Some(m) = delivered {
                prop_assert_eq!(m.id, id);
                prop_assert_eq!(&m.data[..], &data[..]);
            } else {
                prop_assert!(data.is_empty(), "a non-empty message was lost");
            }
            prop_assert!(r.is_idle());
        }
    }

    /// Arbitrary bytes unpack to `Ok` or a typed `PackError`, never a panic.
    #[test]
    fn unpack_of_arbitrary_bytes_is_ok_or_typed(data in proptest::collection::vec(any::<u8>(), 0..200)) {
        let data = Bytes::from(data);
        check_unpack(data.clone())?;
        let _ = unpack_as::<Value>(&data);
        let _ = unpack_as::<Map<String, Value>>(&data);
    }

    /// Plausible packed messages: a length prefix that is right, off by a little, or
    /// absurd, followed by JSON-ish text and a tail.
    #[test]
    fn unpack_of_plausible_messages_is_ok_or_typed(
        (json, is_object) in prop_oneof![
            json_value().prop_map(|v| (v.to_string(), v.is_object())),
            "[{}\\[\\]\":,0-9a-z ]{0,30}".prop_map(|s| (s, false)),
        ],
        delta in prop_oneof![Just(0i64), -3i64..3, Just(i64::MAX)],
        tail in proptest::collection::vec(any::<u8>(), 0..8),
    ) {
        let declared = (json.len() as i64).saturating_add(delta).max(0) as u64;
        let data: Bytes = [&declared.to_be_bytes()[..], json.as_bytes(), &tail].concat().into();
        let unpacked = check_unpack(data)?;
        if delta == 0 && is_object {
            prop_assert!(unpacked, "a well-formed message must unpack: {}", json);
        }
    }

    /// pack → unpack round trips any object header (minus `__meshagent__`) and any tail.
    #[test]
    fn pack_unpack_round_trips(
        header in proptest::collection::vec((key(), json_value()), 0..6),
        tail in proptest::collection::vec(any::<u8>(), 0..64),
    ) {
        let header: Map<String, Value> = header.into_iter().collect();
        let packed = pack(&header, &tail).expect("an object always packs");
        let out = unpack(packed.into()).expect("what we pack unpacks");
        let mut expected = header;
        expected.shift_remove(MESHAGENT_KEY);
        prop_assert_eq!(out.header, expected);
        prop_assert_eq!(&out.tail[..], &tail[..]);
    }

    /// Any JSON object decodes to a content or a typed `Error::Content`; a decoded
    /// content encodes back to a header that decodes to the same content.
    #[test]
    fn content_decoding_is_total_and_stable(
        header in content_header(),
        tail in proptest::collection::vec(any::<u8>(), 0..16),
    ) {
        let tail = Bytes::from(tail);
        match Content::from_parts(header, tail.clone()) {
            Ok(content) => {
                let Value::Object(again) = content.header() else {
                    return Err(TestCaseError::fail("a content header is an object"));
                };
                let tail_again = Bytes::copy_from_slice(content.tail());
                prop_assert_eq!(Content::from_parts(again, tail_again).ok(), Some(content));
            }
            Err(Error::Content(msg)) => prop_assert!(!msg.is_empty()),
            Err(other) => prop_assert!(false, "untyped content error: {:?}", other),
        }
    }

    /// Completely arbitrary objects (no `type` bias) never panic either.
    #[test]
    fn content_decoding_of_any_object_never_panics(value in json_value()) {
        if let Value::Object(m) = value {
            let _ = Content::from_parts(m, Bytes::new());
        }
    }
}

/// Unpacks `data`, checking that errors are the typed ones the docs promise and that a
/// success is consistent with the input; returns whether it unpacked.
fn check_unpack(data: Bytes) -> Result<bool, TestCaseError> {
    match unpack(data.clone()) {
        Ok(packed) => {
            prop_assert!(!packed.header.contains_key(MESHAGENT_KEY));
            prop_assert!(packed.tail.len() <= data.len().saturating_sub(8));
            Ok(true)
        }
        Err(
            PackError::Truncated { .. }
            | PackError::HeaderLengthBeyondPayload { .. }
            | PackError::HeaderNotJson(_)
            | PackError::HeaderNotObject,
        ) => Ok(false),
        Err(other) => Err(TestCaseError::fail(format!("unexpected error {other:?}"))),
    }
}
