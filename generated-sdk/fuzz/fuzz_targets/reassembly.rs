//! Packet reassembly: the input is a sequence of packets, each `[u16 length][bytes]`
//! (length taken modulo 1100 so data packets can be full or oversized). Nothing may panic,
//! a delivered message respects the limits and leaves the reassembler idle, and afterwards
//! a valid message built from the input is still delivered intact.
#![no_main]

use bytes::Bytes;
use libfuzzer_sys::fuzz_target;
use meshagent_room::wire::framing::{encode_message, FramingError, Limits, Reassembler};

const MAX: usize = 64 << 10;

fuzz_target!(|input: &[u8]| {
    let limits = Limits::with_max_message_size(MAX);
    let mut r = Reassembler::new(limits);
    let mut rest = input;
    while let Some((len, tail)) = rest.split_first_chunk::<2>() {
        let len = usize::from(u16::from_be_bytes(*len)) % 1100;
        let len = len.min(tail.len());
        let (packet, tail) = tail.split_at(len);
        rest = tail;
        if let Ok(Some(m)) = r.push(Bytes::copy_from_slice(packet)) {
            assert!(m.data.len() <= MAX, "delivered {} bytes", m.data.len());
            assert!(r.is_idle(), "not idle after a delivery");
        }
    }

    // A valid, non-empty message always comes through after the garbage.
    let data: Vec<u8> = input.iter().rev().copied().take(3000).chain([7]).collect();
    let id = input.len() as u64 ^ 0x5eed;
    let packets = encode_message(id, "valid", &data);
    let last = packets.len() - 1;
    for (i, p) in packets.into_iter().enumerate() {
        match r.push(p) {
            Ok(Some(m)) => {
                assert_eq!(i, last, "delivered early");
                assert_eq!((m.id, m.message_type.as_str()), (id, "valid"));
                assert_eq!(&m.data[..], &data[..]);
            }
            Ok(None) => assert!(i < last, "not delivered"),
            Err(FramingError::InterruptedByHeader { new_id, .. }) if i == 0 => {
                assert_eq!(new_id, id)
            }
            Err(e) => panic!("valid packet {i} rejected: {e}"),
        }
    }
    assert!(r.is_idle());
});
