//! Packet framing of the MeshAgent room protocol.
//!
//! A logical message (`id`, `type`, `data`) travels as one header packet
//! followed by `N = ceil(len(data) / 1024)` data packets, each packet one
//! binary websocket message. All integers are big-endian.
//!
//! ```text
//! header packet:  [u64 id][u32 index = 0][u32 N][type bytes (rest of packet)]
//! data packet i:  [u64 id][u32 index = i][data[(i-1)*1024 .. min(i*1024, len)]]
//! ```
//!
//! An empty message has `N = 0` and consists of the header packet alone.

use bytes::{Bytes, BytesMut};

/// Maximum number of data bytes carried by one data packet.
pub const DATA_PACKET_PAYLOAD: usize = 1024;

/// The most a header alone can make the reassembler reserve.
const PREALLOCATE_MAX: usize = 1 << 20;

/// Length of the `[u64 id][u32 index]` prefix shared by every packet.
const PREFIX_LEN: usize = 12;
/// Length of the header packet prefix: the shared prefix plus `[u32 count]`.
const HEADER_PREFIX_LEN: usize = PREFIX_LEN + 4;

/// Limits that bound what a peer can make us allocate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Largest reassembled message, in bytes of data.
    pub max_message_size: usize,
    /// Largest packet count a header may announce.
    pub max_packet_count: u32,
}

impl Limits {
    /// Limits for messages of at most `max_message_size` bytes, with the
    /// packet count bounded by the number of packets such a message needs.
    pub const fn with_max_message_size(max_message_size: usize) -> Self {
        let packets = max_message_size.div_ceil(DATA_PACKET_PAYLOAD);
        let max_packet_count = if packets > u32::MAX as usize {
            u32::MAX
        } else {
            packets as u32
        };
        Self {
            max_message_size,
            max_packet_count,
        }
    }
}

impl Default for Limits {
    /// 256 MiB per message.
    fn default() -> Self {
        Self::with_max_message_size(256 << 20)
    }
}

/// A reassembled message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Message {
    /// Message id chosen by the sender.
    pub id: u64,
    /// Message type, e.g. `room.invoke_tool`.
    pub message_type: String,
    /// Message payload, usually a packed message (see `runtime::packing`).
    pub data: Bytes,
}

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

/// Why a packet was rejected. After any of these, the [`Reassembler`] has
/// discarded the message in progress (if any).
#[derive(Debug, thiserror::Error, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum FramingError {
    /// The packet is shorter than the fixed prefix of its kind.
    #[error("packet of {len} bytes is shorter than the {min}-byte minimum")]
    TooShort {
        /// Packet length.
        len: usize,
        /// Minimum length for this kind of packet (12 for data, 16 for headers).
        min: usize,
    },
    /// The message type in a header packet is not UTF-8.
    #[error("message {message_id}: type is not valid UTF-8")]
    TypeNotUtf8 {
        /// Id of the rejected message.
        message_id: u64,
    },
    /// A header announced more packets than [`Limits::max_packet_count`].
    #[error("message {message_id}: {count} packets exceed the limit of {max}")]
    TooManyPackets {
        /// Id of the rejected message.
        message_id: u64,
        /// Announced packet count.
        count: u32,
        /// Configured limit.
        max: u32,
    },
    /// The message is (or must become) larger than [`Limits::max_message_size`].
    #[error("message {message_id}: size of at least {size} bytes exceeds the limit of {max}")]
    TooLarge {
        /// Id of the rejected message.
        message_id: u64,
        /// Size reached, or the least size implied by the packet count.
        size: usize,
        /// Configured limit.
        max: usize,
    },
    /// A data packet arrived while no message was in progress.
    #[error("message {message_id}: data packet {index} arrived without a header")]
    DataBeforeHeader {
        /// Id in the stray packet.
        message_id: u64,
        /// Index in the stray packet.
        index: u32,
    },
    /// A data packet belongs to another message than the one in progress.
    #[error("data packet for message {got} arrived while message {expected} was in progress")]
    WrongMessageId {
        /// Id of the message in progress.
        expected: u64,
        /// Id in the packet.
        got: u64,
    },
    /// A data packet is out of order.
    #[error("message {message_id}: expected data packet {expected}, got {got}")]
    UnexpectedIndex {
        /// Id of the message in progress.
        message_id: u64,
        /// Next index due.
        expected: u32,
        /// Index in the packet.
        got: u32,
    },
    /// A data packet carries more than [`DATA_PACKET_PAYLOAD`] bytes.
    #[error("message {message_id}: data packet {index} carries {len} bytes, more than 1024")]
    DataPacketTooLarge {
        /// Id of the message in progress.
        message_id: u64,
        /// Index of the packet.
        index: u32,
        /// Payload length of the packet.
        len: usize,
    },
    /// A non-final data packet carries fewer than [`DATA_PACKET_PAYLOAD`]
    /// bytes, or the final one is empty: the sizes contradict the count.
    #[error(
        "message {message_id}: data packet {index} of {count} carries {len} bytes \
         (non-final packets carry 1024, the final one 1 to 1024)"
    )]
    DataPacketTooSmall {
        /// Id of the message in progress.
        message_id: u64,
        /// Index of the packet.
        index: u32,
        /// Packet count announced by the header.
        count: u32,
        /// Payload length of the packet.
        len: usize,
    },
    /// A header arrived before the message in progress was complete. The
    /// incomplete message is dropped; the new header was accepted.
    #[error(
        "header of message {new_id} arrived while message {aborted_id} was incomplete \
         ({received} of {count} data packets); message {aborted_id} was dropped"
    )]
    InterruptedByHeader {
        /// Id of the dropped message.
        aborted_id: u64,
        /// Data packets of the dropped message received so far.
        received: u32,
        /// Data packets the dropped message announced.
        count: u32,
        /// Id of the message whose header arrived.
        new_id: u64,
    },
}

/// A message whose header has arrived but whose data is incomplete.
struct InProgress {
    id: u64,
    message_type: String,
    count: u32,
    next_index: u32,
    /// Data so far; left unallocated for single-packet messages, whose payload
    /// is delivered as a slice of the packet instead.
    data: BytesMut,
}

/// Reassembles packets into messages.
///
/// Any error resets all state (buffer, expected index, id) so the next header
/// packet starts clean; in particular no bytes of an aborted message leak into
/// the next one. One exception keeps a well-formed message from being lost: a
/// header arriving while a message is in progress reports
/// [`FramingError::InterruptedByHeader`] and drops the incomplete message, but
/// the new header is accepted as the start of a new message. (If that header
/// announces an empty message, which would be complete at once, the empty
/// message is dropped too, since only the error can be returned.)
pub struct Reassembler {
    limits: Limits,
    current: Option<InProgress>,
}

impl std::fmt::Debug for Reassembler {
    // Hand-written so that debug output never dumps a buffered payload.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut s = f.debug_struct("Reassembler");
        s.field("limits", &self.limits);
        if let Some(cur) = &self.current {
            s.field("message_id", &cur.id)
                .field("next_index", &cur.next_index)
                .field("count", &cur.count)
                .field("buffered", &cur.data.len());
        }
        s.finish()
    }
}

impl Default for Reassembler {
    /// A reassembler with [`Limits::default`].
    fn default() -> Self {
        Self::new(Limits::default())
    }
}

impl Reassembler {
    /// Creates an idle reassembler enforcing `limits`.
    pub fn new(limits: Limits) -> Self {
        Self {
            limits,
            current: None,
        }
    }

    /// Returns true when no message is partially received.
    pub fn is_idle(&self) -> bool {
        self.current.is_none()
    }

    /// Feeds one packet; returns the message it completes, if any.
    ///
    /// # Errors
    ///
    /// Returns a [`FramingError`] if the packet is malformed, out of sequence
    /// or over the [`Limits`]; see the type-level docs for the state after.
    pub fn push(&mut self, packet: Bytes) -> Result<Option<Message>, FramingError> {
        // The state is taken out and only put back on success, so every error
        // return leaves the reassembler reset.
        let current = self.current.take();
        let Some((id, index)) = parse_prefix(&packet) else {
            return Err(FramingError::TooShort {
                len: packet.len(),
                min: PREFIX_LEN,
            });
        };
        if index == 0 {
            self.start(current, id, &packet)
        } else {
            self.append(current, id, index, &packet)
        }
    }

    /// Handles a header packet, replacing any message in progress.
    fn start(
        &mut self,
        aborted: Option<InProgress>,
        id: u64,
        packet: &[u8],
    ) -> Result<Option<Message>, FramingError> {
        let (count, message_type) = self.parse_header(id, packet)?;
        let interrupted = aborted.map(|old| FramingError::InterruptedByHeader {
            aborted_id: old.id,
            received: old.next_index - 1,
            count: old.count,
            new_id: id,
        });
        if count == 0 {
            let message = Message {
                id,
                message_type,
                data: Bytes::new(),
            };
            return interrupted.map_or(Ok(Some(message)), Err);
        }
        // A single packet is delivered zero-copy, so it needs no buffer. Beyond
        // PREALLOCATE_MAX the buffer grows with the data that actually arrives, so a
        // 16-byte header cannot make us allocate a large buffer up front.
        let capacity = if count == 1 {
            0
        } else {
            (count as usize)
                .saturating_mul(DATA_PACKET_PAYLOAD)
                .min(self.limits.max_message_size)
                .min(PREALLOCATE_MAX)
        };
        self.current = Some(InProgress {
            id,
            message_type,
            count,
            next_index: 1,
            data: BytesMut::with_capacity(capacity),
        });
        interrupted.map_or(Ok(None), Err)
    }

    /// Validates a header packet against the limits; returns count and type.
    fn parse_header(&self, id: u64, packet: &[u8]) -> Result<(u32, String), FramingError> {
        let Some((count, type_bytes)) = packet
            .get(PREFIX_LEN..)
            .and_then(|rest| rest.split_first_chunk::<4>())
        else {
            return Err(FramingError::TooShort {
                len: packet.len(),
                min: HEADER_PREFIX_LEN,
            });
        };
        let count = u32::from_be_bytes(*count);
        let max = self.limits.max_packet_count;
        if count > max {
            return Err(FramingError::TooManyPackets {
                message_id: id,
                count,
                max,
            });
        }
        // Reject up front a message whose smallest possible size is too large.
        let least_size = (count as usize)
            .saturating_sub(1)
            .saturating_mul(DATA_PACKET_PAYLOAD)
            .saturating_add(usize::from(count > 0));
        self.check_size(id, least_size)?;
        let message_type = std::str::from_utf8(type_bytes)
            .map_err(|_| FramingError::TypeNotUtf8 { message_id: id })?;
        Ok((count, message_type.to_owned()))
    }

    /// Handles a data packet for the message in progress, if any.
    fn append(
        &mut self,
        current: Option<InProgress>,
        id: u64,
        index: u32,
        packet: &Bytes,
    ) -> Result<Option<Message>, FramingError> {
        let Some(mut cur) = current else {
            return Err(FramingError::DataBeforeHeader {
                message_id: id,
                index,
            });
        };
        let payload = &packet[PREFIX_LEN..];
        check_data_packet(&cur, id, index, payload.len())?;
        self.check_size(id, cur.data.len() + payload.len())?;
        if index < cur.count {
            cur.data.extend_from_slice(payload);
            cur.next_index += 1;
            self.current = Some(cur);
            return Ok(None);
        }
        let data = if cur.count == 1 {
            packet.slice(PREFIX_LEN..)
        } else {
            cur.data.extend_from_slice(payload);
            cur.data.freeze()
        };
        Ok(Some(Message {
            id,
            message_type: cur.message_type,
            data,
        }))
    }

    fn check_size(&self, message_id: u64, size: usize) -> Result<(), FramingError> {
        let max = self.limits.max_message_size;
        if size > max {
            return Err(FramingError::TooLarge {
                message_id,
                size,
                max,
            });
        }
        Ok(())
    }
}

/// Checks a data packet's id, index and payload length against the message
/// in progress.
fn check_data_packet(
    cur: &InProgress,
    id: u64,
    index: u32,
    len: usize,
) -> Result<(), FramingError> {
    if id != cur.id {
        return Err(FramingError::WrongMessageId {
            expected: cur.id,
            got: id,
        });
    }
    if index != cur.next_index {
        return Err(FramingError::UnexpectedIndex {
            message_id: id,
            expected: cur.next_index,
            got: index,
        });
    }
    if len > DATA_PACKET_PAYLOAD {
        return Err(FramingError::DataPacketTooLarge {
            message_id: id,
            index,
            len,
        });
    }
    let is_final = index == cur.count;
    if len == 0 || (!is_final && len < DATA_PACKET_PAYLOAD) {
        return Err(FramingError::DataPacketTooSmall {
            message_id: id,
            index,
            count: cur.count,
            len,
        });
    }
    Ok(())
}

/// Reads `[u64 id][u32 index]`, or `None` if the packet is too short.
fn parse_prefix(packet: &[u8]) -> Option<(u64, u32)> {
    let (id, rest) = packet.split_first_chunk::<8>()?;
    let (index, _) = rest.split_first_chunk::<4>()?;
    Some((u64::from_be_bytes(*id), u32::from_be_bytes(*index)))
}

#[cfg(test)]
mod tests {
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

    fn push_all(
        r: &mut Reassembler,
        packets: &[Bytes],
    ) -> Vec<Result<Option<Message>, FramingError>> {
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
            let corrupt_at =
                (rng.below(8) == 0).then(|| 1 + rng.below(packets.len() as u64) as usize);
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
}
