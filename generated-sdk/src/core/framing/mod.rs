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

use bytes::Bytes;

mod encode;
mod reassemble;
#[cfg(test)]
mod tests;

pub use encode::{encode_message, encode_message_parts};
pub use reassemble::{FramingError, Reassembler};

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
#[non_exhaustive]
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
