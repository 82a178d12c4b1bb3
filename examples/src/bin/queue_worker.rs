//! A queue worker: `cargo run -p meshagent-examples --bin queue_worker`.
//!
//! A producer puts jobs on the `jobs` queue; a worker, another participant, takes them one
//! at a time until the queue is empty and reports each result back on `results`.

use std::process::ExitCode;

use meshagent_examples::{exit, within, ExampleRoom, Result};
use serde_json::json;

/// Number of jobs the producer sends.
const JOBS: u64 = 5;

#[tokio::main]
async fn main() -> ExitCode {
    exit(run().await)
}

async fn run() -> Result<()> {
    let room = ExampleRoom::open("queue-worker").await?;
    let (producer, _events) = room.join("producer").await?;
    let (worker, _events) = room.join("worker").await?;

    // The producer sends every job first (a queue is created on first use).
    for n in 1..=JOBS {
        within(
            "send",
            producer
                .queues()
                .send("jobs", json!({"job": n, "square": n})),
        )
        .await??;
    }
    println!("producer: sent {JOBS} jobs");

    // The worker takes jobs until none is left. `wait(false)` answers at once (`None` when
    // the queue is empty); a long-running worker would use `wait(true)` to wait for more.
    let mut done = 0;
    while let Some(job) = within("receive", worker.queues().receive("jobs").wait(false)).await?? {
        let n = job["square"].as_u64().ok_or("a job without a number")?;
        println!("worker: job {} -> {}", job["job"], n * n);
        within(
            "send",
            worker
                .queues()
                .send("results", json!({"job": job["job"], "result": n * n})),
        )
        .await??;
        done += 1;
    }
    println!("worker: the queue is empty");

    // The producer collects the results.
    let mut total = 0;
    while let Some(result) =
        within("receive", producer.queues().receive("results").wait(false)).await??
    {
        total += result["result"]
            .as_u64()
            .ok_or("a result without a number")?;
    }
    if done != JOBS {
        return Err(format!("the worker did {done} of {JOBS} jobs").into());
    }
    println!("queue_worker: {done} jobs done, results add up to {total}");
    producer.close().await;
    worker.close().await;
    room.close().await;
    Ok(())
}
