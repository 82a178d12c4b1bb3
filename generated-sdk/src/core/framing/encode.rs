//! Encoding: a message into its header packet and data packets.

use bytes::Bytes;

use super::{DATA_PACKET_PAYLOAD, HEADER_PREFIX_LEN, PREFIX_LEN};

/// Encodes one message into its packets.
///
/// All packets are slices of ONE contiguous allocation (no per-packet
/// allocation).
///
/// # Panics
///
/// Panics if `data` needs more than `u32::MAX` packets (about 4 TiB), which
/// the wire format cannot express.
#[must_use]
pub fn encode_message(id: u64, message_type: &str, data: &[u8]) -> Vec<Bytes> {
    encode_message_parts(id, message_type, &[data])
}

/// Same as [`encode_message`], but writing the data from several parts (e.g.
/// `[8-byte length, JSON, tail]`) without first concatenating them.
///
/// # Panics
///
/// Panics if the parts need more than `u32::MAX` packets (about 4 TiB).
#[must_use]
pub fn encode_message_parts(id: u64, message_type: &str, parts: &[&[u8]]) -> Vec<Bytes> {
    let len: usize = parts.iter().map(|part| part.len()).sum();
    let count = len.div_ceil(DATA_PACKET_PAYLOAD);
    let wire_count = u32::try_from(count).expect("message needs more than u32::MAX packets");
    let header_len = HEADER_PREFIX_LEN + message_type.len();

    let mut buf = Vec::with_capacity(header_len + count * PREFIX_LEN + len);
    buf.extend_from_slice(&id.to_be_bytes());
    buf.extend_from_slice(&0u32.to_be_bytes());
    buf.extend_from_slice(&wire_count.to_be_bytes());
    buf.extend_from_slice(message_type.as_bytes());
    write_data_packets(&mut buf, id, parts);

    // Slicing shares the one allocation; every data packet but the last is
    // exactly `PREFIX_LEN + DATA_PACKET_PAYLOAD` bytes long.
    let buf = Bytes::from(buf);
    let mut packets = Vec::with_capacity(count + 1);
    packets.push(buf.slice(..header_len));
    let mut start = header_len;
    while start < buf.len() {
        let end = buf.len().min(start + PREFIX_LEN + DATA_PACKET_PAYLOAD);
        packets.push(buf.slice(start..end));
        start = end;
    }
    packets
}

/// Appends the data packets for `parts`, starting a new packet (with its
/// prefix) every `DATA_PACKET_PAYLOAD` bytes, whatever the part boundaries.
fn write_data_packets(buf: &mut Vec<u8>, id: u64, parts: &[&[u8]]) {
    let mut index = 0u32;
    let mut room = 0; // payload bytes left in the current packet
    for mut part in parts.iter().copied() {
        while !part.is_empty() {
            if room == 0 {
                index += 1;
                buf.extend_from_slice(&id.to_be_bytes());
                buf.extend_from_slice(&index.to_be_bytes());
                room = DATA_PACKET_PAYLOAD;
            }
            let (now, rest) = part.split_at(room.min(part.len()));
            buf.extend_from_slice(now);
            room -= now.len();
            part = rest;
        }
    }
}
