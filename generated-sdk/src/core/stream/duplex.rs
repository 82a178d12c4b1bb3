//! `invoke_stream`: a streamed call in both directions, the request half driven by a task
//! of its own while the caller reads the response half.

use futures::stream::BoxStream;
use futures::StreamExt;

use super::{RequestHalf, ResponseHalf, ToolCallStream};
use crate::core::content::Content;
use crate::core::error::{Error, Result};

/// A streamed call in both directions: `input` goes out as request chunks (each
/// acknowledged before the next where the protocol wants it, then the close) from a task
/// of its own, while the returned stream yields the response chunks. `error` chunks are yielded as content (the
/// stream goes on, as in the SDKs); a normal close ends the stream, an abnormal one is
/// [`Error::StreamClosed`]; a refused request chunk ends it with that error. Dropping the
/// returned stream stops sending and closes the request side.
pub(crate) fn invoke_stream(
    stream: ToolCallStream,
    input: BoxStream<'static, Content>,
) -> BoxStream<'static, Result<Content>> {
    let (request, response) = stream.split();
    let pump = Some(Pump::new(tokio::spawn(pump_requests(request, input))));
    futures::stream::unfold(Some((response, pump)), |state| async move {
        let (mut response, mut pump) = state?;
        loop {
            let Some(p) = pump.as_mut() else {
                // Everything is sent: only responses are left.
                let chunk = response.recv().await;
                return item(chunk, response, None);
            };
            tokio::select! {
                biased;
                chunk = response.recv() => return item(chunk, response, pump),
                sent = &mut *p => match sent {
                    Ok(Ok(())) => pump = None,
                    Ok(Err(e)) => return Some((Err(e), None)),
                    Err(e) => {
                        let e = Error::InvalidArguments(format!("the input stream failed: {e}"));
                        return Some((Err(e), None));
                    }
                },
            }
        }
    })
    .boxed()
}

type ChunkState = Option<(ResponseHalf, Option<Pump>)>;

/// One step of the response stream: a chunk and the state to go on with, or the end.
fn item(
    chunk: Result<Option<Content>>,
    response: ResponseHalf,
    pump: Option<Pump>,
) -> Option<(Result<Content>, ChunkState)> {
    match chunk {
        Ok(Some(c)) => Some((Ok(c), Some((response, pump)))),
        Ok(None) => None,
        Err(e) => Some((Err(e), None)),
    }
}

/// The request-side sender of [`invoke_stream`]; aborted (which drops the request half,
/// sending the close) when the response stream is dropped.
type Pump = tokio_util::task::AbortOnDropHandle<Result<()>>;

/// Sends every input chunk, then the close; a refused chunk stops it (the dropped half
/// still closes the request side).
async fn pump_requests(
    mut request: RequestHalf,
    mut input: BoxStream<'static, Content>,
) -> Result<()> {
    while let Some(chunk) = input.next().await {
        request.send(chunk).await?;
    }
    request.close().await
}
