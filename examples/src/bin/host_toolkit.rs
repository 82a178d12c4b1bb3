//! Host a toolkit: `cargo run -p meshagent-examples --bin host_toolkit`.
//!
//! One participant hosts a toolkit with a tool; another finds it in the room's toolkit
//! list and calls it. The room passes the call to the host and the answer back.

use std::process::ExitCode;

use meshagent_examples::{exit, within, ExampleRoom, Result};
use meshagent_room::{Content, Toolkit};
use serde_json::json;

#[tokio::main]
async fn main() -> ExitCode {
    exit(run().await)
}

async fn run() -> Result<()> {
    let room = ExampleRoom::open("host-toolkit").await?;
    let (host, _events) = room.join("host").await?;
    let (caller, _events) = room.join("caller").await?;

    // A toolkit is a name and its tools; a JSON tool is an async function from the
    // arguments to the answer (an `Err` is sent back as the call's error).
    let toolkit = Toolkit::new("calculator", "Calculator", "Adds numbers.").json_tool(
        "add",
        "Adds `a` and `b`.",
        |args| async move {
            let (Some(a), Some(b)) = (args["a"].as_f64(), args["b"].as_f64()) else {
                return Err("`a` and `b` must be numbers".to_string());
            };
            println!("host: add({a}, {b})");
            Ok(json!({ "sum": a + b }))
        },
    );
    // Public: every participant may call it. Served until unregistered (or dropped).
    let hosted = within("the toolkit to be hosted", host.host_toolkit(toolkit, true)).await??;

    // The caller finds the toolkit in the room's list.
    let toolkits = within("list_toolkits", caller.agents().list_toolkits()).await??;
    let names: Vec<&str> = toolkits.iter().map(|t| t.name.as_str()).collect();
    println!("caller: toolkits in the room: {}", names.join(", "));
    let calculator = toolkits
        .iter()
        .find(|t| t.name == "calculator")
        .ok_or("the calculator is not listed")?;
    let tools: Vec<&str> = calculator.tools.iter().map(|t| t.name.as_str()).collect();
    println!("caller: calculator has: {}", tools.join(", "));

    // And calls it.
    let answer = within(
        "the tool call",
        caller
            .agents()
            .invoke_tool("calculator", "add", Content::Json(json!({"a": 2, "b": 40}))),
    )
    .await??;
    let Content::Json(answer) = answer else {
        return Err(format!("expected a JSON answer, got {}", answer.type_name()).into());
    };
    println!("caller: add(2, 40) = {}", answer["sum"]);
    if answer["sum"].as_f64() != Some(42.0) {
        return Err(format!("wrong sum: {answer}").into());
    }

    // A bad call comes back as an error.
    let refused = within(
        "the tool call",
        caller
            .agents()
            .invoke_tool("calculator", "add", Content::Json(json!({"a": "two"}))),
    )
    .await?;
    match refused {
        Err(e) => println!("caller: add(\"two\") failed as expected: {e}"),
        Ok(answer) => return Err(format!("a bad call succeeded: {answer:?}").into()),
    }

    within("unregister", hosted.unregister()).await??;
    println!("host_toolkit: the caller listed and called the hosted tool");
    host.close().await;
    caller.close().await;
    room.close().await;
    Ok(())
}
