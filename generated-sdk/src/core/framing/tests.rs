//! Framing tests: round trips, hand-built packets, and every rejection.

use super::*;

/// Builds a header packet by hand.
fn hdr(id: u64, count: u32, message_type: &[u8]) -> Bytes {
    [
        &id.to_be_bytes()[..],
        &[0; 4],
        &count.to_be_bytes(),
        message_type,
    ]
    .concat()
    .into()
}

/// Builds a data packet by hand.
fn dat(id: u64, index: u32, payload: &[u8]) -> Bytes {
    [&id.to_be_bytes()[..], &index.to_be_bytes(), payload]
        .concat()
        .into()
}

fn full() -> Vec<u8> {
    vec![0xAB; DATA_PACKET_PAYLOAD]
}

fn push_all(r: &mut Reassembler, packets: &[Bytes]) -> Vec<Result<Option<Message>, FramingError>> {
    packets.iter().map(|p| r.push(p.clone())).collect()
}

/// Asserts that `r` is idle and then reassembles a fresh message correctly.
fn assert_recovers(r: &mut Reassembler) {
    assert!(r.is_idle());
    let data: Vec<u8> = (0..3000u32).map(|i| i as u8).collect();
    let packets = encode_message(99, "after.error", &data);
    let results = push_all(r, &packets);
    let (last, rest) = results.split_last().unwrap();
    assert!(rest.iter().all(|r| matches!(r, Ok(None))), "{rest:?}");
    let expected = Message {
        id: 99,
        message_type: "after.error".into(),
        data: data.into(),
    };
    assert_eq!(last, &Ok(Some(expected)));
    assert!(r.is_idle());
}

fn round_trip(len: usize, expected_sizes: &[usize]) {
    let data: Vec<u8> = (0..len).map(|i| (i * 7 % 256) as u8).collect();
    let packets = encode_message(42, "t", &data);
    let sizes: Vec<usize> = packets.iter().map(Bytes::len).collect();
    assert_eq!(sizes, expected_sizes, "len {len}");

    let mut r = Reassembler::default();
    let results = push_all(&mut r, &packets);
    let (last, rest) = results.split_last().unwrap();
    assert!(rest.iter().all(|r| matches!(r, Ok(None))));
    let message = last.clone().unwrap().unwrap();
    assert_eq!(message.id, 42);
    assert_eq!(message.message_type, "t");
    assert_eq!(message.data, data);
    assert!(r.is_idle());
}

#[test]
fn round_trips_at_packet_boundaries() {
    round_trip(0, &[17]);
    round_trip(1, &[17, 13]);
    round_trip(1023, &[17, 1035]);
    round_trip(1024, &[17, 1036]);
    round_trip(1025, &[17, 1036, 13]);
}

#[test]
fn round_trips_one_mebibyte() {
    let mut sizes = vec![17];
    sizes.extend([1036; 1024]);
    round_trip(1 << 20, &sizes);
}

#[test]
fn header_packet_matches_hex_vector() {
    let packets = encode_message(3, "room.invoke_tool", b"x");
    let expected = "0000000000000003 00000000 00000001 726f6f6d2e696e766f6b655f746f6f6c";
    let hex: String = packets[0].iter().map(|b| format!("{b:02x}")).collect();
    assert_eq!(hex, expected.replace(' ', ""));
    assert_eq!(packets[1], dat(3, 1, b"x"));
}

#[test]
fn packets_share_one_contiguous_allocation() {
    let packets = encode_message(1, "t", &[5; 5000]);
    for pair in packets.windows(2) {
        assert_eq!(
            pair[0].as_ptr() as usize + pair[0].len(),
            pair[1].as_ptr() as usize
        );
    }
}

#[test]
fn parts_encode_like_their_concatenation() {
    let data: Vec<u8> = (0..5000u32).map(|i| (i % 253) as u8).collect();
    let whole = encode_message(8, "parts", &data);
    for cuts in [
        vec![],
        vec![0, 0],
        vec![8, 100],
        vec![1023, 1024, 1025],
        vec![1, 4999],
    ] {
        let mut parts = Vec::new();
        let mut start = 0;
        for cut in cuts {
            parts.push(&data[start..cut]);
            start = cut;
        }
        parts.push(&data[start..]);
        assert_eq!(encode_message_parts(8, "parts", &parts), whole);
    }
    assert_eq!(
        encode_message_parts(8, "parts", &[]),
        encode_message(8, "parts", &[])
    );
}

#[test]
fn single_data_packet_is_delivered_zero_copy() {
    let packets = encode_message(1, "t", b"payload");
    let mut r = Reassembler::default();
    r.push(packets[0].clone()).unwrap();
    let message = r.push(packets[1].clone()).unwrap().unwrap();
    assert_eq!(message.data.as_ptr(), packets[1][PREFIX_LEN..].as_ptr());
}

#[test]
fn out_of_order_index_is_rejected() {
    let mut r = Reassembler::default();
    assert_eq!(r.push(hdr(5, 3, b"t")), Ok(None));
    assert_eq!(r.push(dat(5, 1, &full())), Ok(None));
    assert_eq!(
        r.push(dat(5, 3, b"x")),
        Err(FramingError::UnexpectedIndex {
            message_id: 5,
            expected: 2,
            got: 3
        })
    );
    assert_recovers(&mut r);
}

#[test]
fn data_for_another_message_is_rejected() {
    let mut r = Reassembler::default();
    r.push(hdr(5, 2, b"t")).unwrap();
    assert_eq!(
        r.push(dat(6, 1, &full())),
        Err(FramingError::WrongMessageId {
            expected: 5,
            got: 6
        })
    );
    assert_recovers(&mut r);
}

#[test]
fn data_before_header_is_rejected() {
    let mut r = Reassembler::default();
    assert_eq!(
        r.push(dat(5, 1, b"x")),
        Err(FramingError::DataBeforeHeader {
            message_id: 5,
            index: 1
        })
    );
    assert_recovers(&mut r);
}

/// Pushes `packets`, returning the (id, data) of each delivered message.
fn deliveries(r: &mut Reassembler, packets: &[Bytes]) -> Vec<(u64, Bytes)> {
    let results = push_all(r, packets);
    results
        .into_iter()
        .flatten()
        .flatten()
        .map(|m| (m.id, m.data))
        .collect()
}

/// The official SDKs keep the aborted "STALE" bytes and deliver message 3
/// as "STALEgood".
#[test]
fn no_stale_bytes_survive_an_aborted_message() {
    let mut r = Reassembler::default();
    let packets = [
        hdr(1, 2, b"t"),
        dat(1, 1, b"STALE"), // rejected: a non-final packet must be full
        hdr(2, 1, b"t"),
        dat(2, 1, b"two"),
        hdr(3, 1, b"t"),
        dat(3, 1, b"good"),
    ];
    let expected = [(2, Bytes::from("two")), (3, Bytes::from("good"))];
    assert_eq!(deliveries(&mut r, &packets), expected);
    assert!(r.is_idle());
}

#[test]
fn header_during_message_drops_it_and_starts_the_new_one() {
    let mut r = Reassembler::default();
    let mut stale = b"STALE".to_vec();
    stale.resize(DATA_PACKET_PAYLOAD, b'!');
    assert_eq!(r.push(hdr(1, 2, b"t")), Ok(None));
    assert_eq!(r.push(dat(1, 1, &stale)), Ok(None));
    assert_eq!(
        r.push(hdr(2, 1, b"t")),
        Err(FramingError::InterruptedByHeader {
            aborted_id: 1,
            received: 1,
            count: 2,
            new_id: 2
        })
    );
    assert!(!r.is_idle(), "the interrupting header is accepted");
    let packets = [dat(2, 1, b"two"), hdr(3, 1, b"t"), dat(3, 1, b"good")];
    let expected = [(2, Bytes::from("two")), (3, Bytes::from("good"))];
    assert_eq!(deliveries(&mut r, &packets), expected);
    assert_recovers(&mut r);
}

#[test]
fn interrupting_empty_or_invalid_header_leaves_idle() {
    let mut r = Reassembler::default();
    r.push(hdr(1, 2, b"t")).unwrap();
    assert!(matches!(
        r.push(hdr(2, 0, b"t")),
        Err(FramingError::InterruptedByHeader { .. })
    ));
    assert_recovers(&mut r);
    r.push(hdr(1, 2, b"t")).unwrap();
    assert_eq!(
        r.push(hdr(2, 1, &[0xff])),
        Err(FramingError::TypeNotUtf8 { message_id: 2 })
    );
    assert_recovers(&mut r);
}

#[test]
fn truncated_packets_are_rejected() {
    let mut r = Reassembler::default();
    for len in [0, 1, 11] {
        r.push(hdr(1, 2, b"t")).unwrap();
        assert_eq!(
            r.push(Bytes::from(vec![0; len])),
            Err(FramingError::TooShort { len, min: 12 })
        );
        assert_recovers(&mut r);
    }
    for len in [12, 15] {
        assert_eq!(
            r.push(Bytes::from(vec![0; len])),
            Err(FramingError::TooShort { len, min: 16 })
        );
        assert_recovers(&mut r);
    }
}

#[test]
fn non_utf8_type_is_rejected() {
    let mut r = Reassembler::default();
    assert_eq!(
        r.push(hdr(4, 1, b"ok\xc3(")),
        Err(FramingError::TypeNotUtf8 { message_id: 4 })
    );
    assert_recovers(&mut r);
}

#[test]
fn absurd_packet_count_is_rejected_at_the_header() {
    let mut r = Reassembler::default();
    assert_eq!(
        r.push(hdr(4, u32::MAX, b"t")),
        Err(FramingError::TooManyPackets {
            message_id: 4,
            count: u32::MAX,
            max: 256 * 1024
        })
    );
    assert_recovers(&mut r);
    // With the count limit lifted, the size limit still refuses before
    // anything (here: 4 TiB) is allocated.
    let limits = Limits {
        max_message_size: 1 << 20,
        max_packet_count: u32::MAX,
    };
    let mut r = Reassembler::new(limits);
    assert!(matches!(
        r.push(hdr(4, u32::MAX, b"t")),
        Err(FramingError::TooLarge { .. })
    ));
    assert_recovers(&mut r);
}

#[test]
fn size_limit_is_enforced() {
    let limits = |max_message_size, max_packet_count| Limits {
        max_message_size,
        max_packet_count,
    };
    assert_eq!(Limits::with_max_message_size(2048), limits(2048, 2));
    assert_eq!(Limits::default(), limits(256 << 20, 256 << 10));

    // At the header: three packets hold at least 2049 bytes.
    let mut r = Reassembler::new(limits(2048, 3));
    assert_eq!(
        r.push(hdr(1, 3, b"t")),
        Err(FramingError::TooLarge {
            message_id: 1,
            size: 2049,
            max: 2048
        })
    );
    assert!(r.is_idle());

    // While accumulating: two packets may hold up to 2048 bytes.
    let mut r = Reassembler::new(limits(2000, 2));
    assert_eq!(
        deliveries(&mut r, &encode_message(1, "t", &[1; 2000])).len(),
        1
    );
    r.push(hdr(1, 2, b"t")).unwrap();
    r.push(dat(1, 1, &full())).unwrap();
    assert_eq!(
        r.push(dat(1, 2, &full())),
        Err(FramingError::TooLarge {
            message_id: 1,
            size: 2048,
            max: 2000
        })
    );
    assert!(r.is_idle());

    // On the single-packet fast path.
    let mut r = Reassembler::new(limits(10, 1));
    assert_eq!(
        deliveries(&mut r, &encode_message(1, "t", &[1; 10])).len(),
        1
    );
    r.push(hdr(1, 1, b"t")).unwrap();
    assert_eq!(
        r.push(dat(1, 1, &[0; 11])),
        Err(FramingError::TooLarge {
            message_id: 1,
            size: 11,
            max: 10
        })
    );
    assert!(r.is_idle());
}

#[test]
fn data_packet_sizes_must_match_the_count() {
    let mut r = Reassembler::default();
    r.push(hdr(1, 2, b"t")).unwrap();
    assert_eq!(
        r.push(dat(1, 1, &[0; 1025])),
        Err(FramingError::DataPacketTooLarge {
            message_id: 1,
            index: 1,
            len: 1025
        })
    );
    assert_recovers(&mut r);
    r.push(hdr(1, 2, b"t")).unwrap();
    assert_eq!(
        r.push(dat(1, 1, &[0; 1023])),
        Err(FramingError::DataPacketTooSmall {
            message_id: 1,
            index: 1,
            count: 2,
            len: 1023
        })
    );
    assert_recovers(&mut r);
    r.push(hdr(1, 2, b"t")).unwrap();
    r.push(dat(1, 1, &full())).unwrap();
    assert_eq!(
        r.push(dat(1, 2, b"")),
        Err(FramingError::DataPacketTooSmall {
            message_id: 1,
            index: 2,
            count: 2,
            len: 0
        })
    );
    assert_recovers(&mut r);
}

#[test]
fn errors_name_ids_and_indices() {
    let err = FramingError::UnexpectedIndex {
        message_id: 5,
        expected: 2,
        got: 3,
    };
    assert_eq!(err.to_string(), "message 5: expected data packet 2, got 3");
}

/// xorshift64: deterministic and dependency-free.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }

    /// Random bytes, fewer than `max` of them.
    fn bytes(&mut self, max: u64) -> Vec<u8> {
        let len = self.below(max);
        (0..len).map(|_| self.next() as u8).collect()
    }
}

/// A random packet, biased towards plausible ids, indices and counts so
/// that it reaches the deeper checks.
fn garbage(rng: &mut Rng) -> Bytes {
    let id = rng.below(4);
    let index = match rng.below(3) {
        0 => 0,
        1 => rng.below(4) as u32,
        _ => rng.next() as u32,
    };
    match rng.below(4) {
        0 => rng.bytes(20).into(),
        1 => hdr(id, rng.below(4) as u32, &rng.bytes(6)),
        2 => dat(id, index, &rng.bytes(1100)),
        _ => dat(id, index, &full()),
    }
}

#[test]
fn random_garbage_never_corrupts_valid_messages() {
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    let mut r = Reassembler::new(Limits::with_max_message_size(64 << 10));
    let mut delivered = 0;
    for round in 0..2000 {
        for _ in 0..rng.below(4) {
            let _ = r.push(garbage(&mut rng));
        }
        // Valid ids never collide with garbage ids (0..4).
        let id = 1000 + round;
        let data = rng.bytes(5000);
        let packets = encode_message(id, "valid", &data);
        let corrupt_at = (rng.below(8) == 0).then(|| 1 + rng.below(packets.len() as u64) as usize);
        for (i, packet) in packets.iter().enumerate() {
            if Some(i) == corrupt_at {
                let _ = r.push(garbage(&mut rng));
            }
            match r.push(packet.clone()) {
                Ok(Some(message)) => {
                    assert_eq!(i, packets.len() - 1, "delivered early");
                    assert_eq!(
                        message,
                        Message {
                            id,
                            message_type: "valid".into(),
                            data: data.clone().into()
                        }
                    );
                    delivered += 1;
                }
                Ok(None) => {}
                // Only the header may fail (interrupting garbage), unless corrupted.
                Err(err) => assert!(
                    corrupt_at.is_some()
                        || (i == 0 && matches!(err, FramingError::InterruptedByHeader { .. })),
                    "{err}"
                ),
            }
        }
        if corrupt_at.is_none() {
            assert!(r.is_idle());
        }
    }
    assert!(delivered > 1500, "{delivered}");
}
