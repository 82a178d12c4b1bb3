//! The room wire format, implemented here independently of the SDK so that a framing
//! bug cannot hide on both sides.
//!
//! ```text
//! header packet:  [u64 BE id][u32 BE 0][u32 BE N = ceil(len/1024)][UTF-8 type]
//! data packet i:  [u64 BE id][u32 BE i][<= 1024 bytes of data]
//! data:           [u64 BE json_len][JSON object][binary tail]
//! ```
//!
//! Reassembly is strict, like the recorder's fake room: any deviation is an error.

use serde_json::{Map, Value};

/// Data bytes carried by every data packet but the last.
pub const CHUNK: usize = 1024;

/// A wire format violation.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct WireError(pub String);

fn fail<T>(msg: String) -> Result<T, WireError> {
    Err(WireError(msg))
}

/// A reassembled message: id, packet type and raw data.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RawMessage {
    /// The sender's message id.
    pub id: u64,
    /// The packet type.
    pub packet_type: String,
    /// The message data (usually a packed header + tail).
    pub data: Vec<u8>,
}

/// Splits a message into its header packet and data packets.
pub fn encode(id: u64, packet_type: &str, data: &[u8]) -> Result<Vec<Vec<u8>>, WireError> {
    let chunks: Vec<&[u8]> = data.chunks(CHUNK).collect();
    let Ok(count) = u32::try_from(chunks.len()) else {
        return fail(format!("{} bytes need too many packets", data.len()));
    };
    let mut header = prefix(id, 0);
    header.extend_from_slice(&count.to_be_bytes());
    header.extend_from_slice(packet_type.as_bytes());
    let mut packets = vec![header];
    for (index, chunk) in (1..=count).zip(chunks) {
        let mut packet = prefix(id, index);
        packet.extend_from_slice(chunk);
        packets.push(packet);
    }
    Ok(packets)
}

fn prefix(id: u64, index: u32) -> Vec<u8> {
    let mut p = Vec::with_capacity(16 + CHUNK);
    p.extend_from_slice(&id.to_be_bytes());
    p.extend_from_slice(&index.to_be_bytes());
    p
}

/// Packs a JSON object header and a tail into message data.
pub fn pack(header: &Map<String, Value>, tail: &[u8]) -> Result<Vec<u8>, WireError> {
    let json = serde_json::to_vec(header).map_err(|e| WireError(e.to_string()))?;
    let mut data = (json.len() as u64).to_be_bytes().to_vec();
    data.extend_from_slice(&json);
    data.extend_from_slice(tail);
    Ok(data)
}

/// Splits message data into its JSON object header and its tail.
pub fn unpack(data: &[u8]) -> Result<(Map<String, Value>, Vec<u8>), WireError> {
    let Some((len, rest)) = data.split_first_chunk::<8>() else {
        return fail(format!("packed data of {} bytes has no length", data.len()));
    };
    let len = u64::from_be_bytes(*len);
    let json_len = match usize::try_from(len) {
        Ok(n) if n <= rest.len() => n,
        _ => return fail(format!("header length {len} exceeds {} bytes", rest.len())),
    };
    let (json, tail) = rest.split_at(json_len);
    match serde_json::from_slice(json) {
        Ok(Value::Object(header)) => Ok((header, tail.to_vec())),
        Ok(other) => fail(format!("packed header is not a JSON object: {other}")),
        Err(e) => fail(format!("packed header is not JSON: {e}")),
    }
}

/// A message whose header packet has arrived.
#[derive(Debug)]
struct Partial {
    id: u64,
    packet_type: String,
    count: u32,
    next: u32,
    data: Vec<u8>,
}

/// Strict packet reassembly.
#[derive(Debug, Default)]
pub struct Reassembler {
    current: Option<Partial>,
}

impl Reassembler {
    /// Whether no message is half received.
    pub fn is_idle(&self) -> bool {
        self.current.is_none()
    }

    /// Feeds one packet; returns the message it completes, if any.
    pub fn push(&mut self, packet: &[u8]) -> Result<Option<RawMessage>, WireError> {
        let Some((id, rest)) = packet.split_first_chunk::<8>() else {
            return fail(format!("packet of {} bytes is too short", packet.len()));
        };
        let Some((index, rest)) = rest.split_first_chunk::<4>() else {
            return fail(format!("packet of {} bytes is too short", packet.len()));
        };
        let (id, index) = (u64::from_be_bytes(*id), u32::from_be_bytes(*index));
        match self.current.take() {
            None if index == 0 => self.start(id, rest),
            None => fail(format!(
                "data packet {index} of message {id} without a header"
            )),
            Some(p) if index == 0 => fail(format!(
                "header of message {id} while message {} is incomplete",
                p.id
            )),
            Some(p) => self.append(p, id, index, rest),
        }
    }

    fn start(&mut self, id: u64, rest: &[u8]) -> Result<Option<RawMessage>, WireError> {
        let Some((count, type_bytes)) = rest.split_first_chunk::<4>() else {
            return fail(format!("header packet of message {id} has no count"));
        };
        let Ok(packet_type) = String::from_utf8(type_bytes.to_vec()) else {
            return fail(format!("type of message {id} is not UTF-8"));
        };
        let partial = Partial {
            id,
            packet_type,
            count: u32::from_be_bytes(*count),
            next: 1,
            data: Vec::new(),
        };
        Ok(self.complete_or_keep(partial))
    }

    fn append(
        &mut self,
        mut p: Partial,
        id: u64,
        index: u32,
        chunk: &[u8],
    ) -> Result<Option<RawMessage>, WireError> {
        if id != p.id || index != p.next {
            return fail(format!(
                "got packet {index} of message {id}, expected packet {} of message {}",
                p.next, p.id
            ));
        }
        let last = index == p.count;
        let size_ok = if last {
            (1..=CHUNK).contains(&chunk.len())
        } else {
            chunk.len() == CHUNK
        };
        if !size_ok {
            return fail(format!(
                "data packet {index} of {} (message {id}) carries {} bytes",
                p.count,
                chunk.len()
            ));
        }
        p.data.extend_from_slice(chunk);
        p.next += 1;
        Ok(self.complete_or_keep(p))
    }

    fn complete_or_keep(&mut self, p: Partial) -> Option<RawMessage> {
        if p.next > p.count {
            return Some(RawMessage {
                id: p.id,
                packet_type: p.packet_type,
                data: p.data,
            });
        }
        self.current = Some(p);
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn reassemble(packets: &[Vec<u8>]) -> Result<Vec<RawMessage>, WireError> {
        let mut r = Reassembler::default();
        let mut out = Vec::new();
        for p in packets {
            out.extend(r.push(p)?);
        }
        Ok(out)
    }

    #[test]
    fn round_trips_across_packet_boundaries() {
        for len in [0usize, 1, 1023, 1024, 1025, 3000] {
            let data: Vec<u8> = (0..len).map(|i| i as u8).collect();
            let packets = encode(7, "t.x", &data).expect("encodes");
            assert_eq!(packets.len(), 1 + len.div_ceil(CHUNK));
            let msgs = reassemble(&packets).expect("reassembles");
            assert_eq!(
                msgs,
                [RawMessage {
                    id: 7,
                    packet_type: "t.x".into(),
                    data
                }]
            );
        }
    }

    #[test]
    fn rejects_wrong_sizes_indexes_and_ids() {
        let good = encode(1, "t", &[0; 1500]).expect("encodes");
        let mut short = good.clone();
        short[1].pop();
        assert!(reassemble(&short).is_err(), "short non-final packet");
        let mut wrong_id = good.clone();
        wrong_id[2][7] = 9;
        assert!(reassemble(&wrong_id).is_err(), "wrong id");
        assert!(
            reassemble(&[good[0].clone(), good[2].clone()]).is_err(),
            "skipped index"
        );
        assert!(
            reassemble(&[good[1].clone()]).is_err(),
            "data before header"
        );
        assert!(
            reassemble(&[good[0].clone(), good[0].clone()]).is_err(),
            "header twice"
        );
    }

    #[test]
    fn packs_and_unpacks() {
        let header = json!({"b": 1, "a": [true]});
        let header = header.as_object().cloned().unwrap_or_default();
        let data = pack(&header, b"tail").expect("packs");
        assert_eq!(unpack(&data), Ok((header, b"tail".to_vec())));
        assert!(unpack(&data[..5]).is_err());
        assert!(unpack(b"\0\0\0\0\0\0\0\x02[]").is_err());
        assert!(unpack(b"\0\0\0\0\0\0\0\x09{}").is_err());
    }
}
