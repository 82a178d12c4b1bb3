//! Reassembly: packets back into messages, with every malformed packet rejected.

use bytes::{Bytes, BytesMut};

use super::{Limits, Message, DATA_PACKET_PAYLOAD, HEADER_PREFIX_LEN, PREALLOCATE_MAX, PREFIX_LEN};

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
