//! Throughput of the framing + packing hot path.
//!
//! encode: pack a small JSON header and a binary tail, then split it into
//! packets. decode: reassemble prebuilt packets, then unpack.

use std::hint::black_box;

use bytes::Bytes;
use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use meshagent_room::wire::framing::{encode_message_parts, Limits, Reassembler};
use meshagent_room::wire::packing::{pack, pack_header, unpack};
use serde_json::json;

const SIZES: [(&str, usize); 3] = [("1KiB", 1 << 10), ("64KiB", 64 << 10), ("1MiB", 1 << 20)];
const MESSAGE_TYPE: &str = "room.invoke_tool";

fn header() -> serde_json::Value {
    json!({ "toolkit": "storage", "tool": "write_file", "arguments": { "path": "a/b.bin" } })
}

/// A deterministic, non-constant tail.
fn tail(size: usize) -> Vec<u8> {
    (0..size).map(|i| (i * 31 % 251) as u8).collect()
}

fn encode(c: &mut Criterion) {
    let header = header();
    let mut group = c.benchmark_group("encode");
    for (name, size) in SIZES {
        let tail = tail(size);
        let packed_len = pack(&header, &tail).expect("header packs").len();
        group.throughput(Throughput::Bytes(packed_len as u64));
        group.bench_with_input(BenchmarkId::from_parameter(name), &tail, |b, tail| {
            b.iter(|| {
                let packed_header = pack_header(black_box(&header)).expect("header packs");
                encode_message_parts(7, MESSAGE_TYPE, &[&packed_header, black_box(tail)])
            })
        });
    }
    group.finish();
}

fn decode(c: &mut Criterion) {
    let header = header();
    let mut group = c.benchmark_group("decode");
    for (name, size) in SIZES {
        let packed = pack(&header, &tail(size)).expect("header packs");
        let packets: Vec<Bytes> = encode_message_parts(7, MESSAGE_TYPE, &[&packed]);
        let mut reassembler = Reassembler::new(Limits::default());
        group.throughput(Throughput::Bytes(packed.len() as u64));
        group.bench_with_input(BenchmarkId::from_parameter(name), &packets, |b, packets| {
            b.iter(|| {
                let mut delivered = None;
                for packet in packets {
                    delivered = reassembler.push(packet.clone()).expect("valid packet");
                }
                let message = delivered.expect("last packet completes the message");
                unpack(message.data).expect("valid packed message")
            })
        });
    }
    group.finish();
}

criterion_group!(benches, encode, decode);
criterion_main!(benches);
