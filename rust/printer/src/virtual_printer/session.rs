//! One connection to the virtual printer: read bytes (at the link's baud rate), hand them
//! to the state machine, write its answers; send an Automatic Status Back on every status
//! change while ASB is on; close the link when a fault says so.

use std::sync::Arc;
use std::time::Duration;

use log::{debug, info};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, ReadHalf, WriteHalf};
use tokio::sync::broadcast::error::RecvError;

use super::link::Pace;
use super::state::SessionState;
use super::{Event, Inner};

/// The most bytes read at once.
const READ_SIZE: usize = 4096;
/// After a dropped link, how long to keep swallowing what the peer still sends (so the
/// close is a clean end of stream, not a reset), at most.
const DRAIN_FOR: Duration = Duration::from_secs(2);
/// … and how long a pause ends it early.
const DRAIN_IDLE: Duration = Duration::from_millis(100);

/// Serves one connection until the peer closes it or a fault drops it.
pub(crate) async fn run<S>(inner: Arc<Inner>, stream: S)
where
    S: AsyncRead + AsyncWrite + Send + 'static,
{
    let (mut reader, mut writer) = tokio::io::split(stream);
    let mut events = inner.events.subscribe();
    inner.with(|machine, _| machine.open_session());
    let mut session = SessionState::default();
    let mut rx = Pace::new(inner.baud);
    let mut tx = Pace::new(inner.baud);
    let mut buf = vec![0u8; READ_SIZE];
    debug!("virtual printer: connection opened");
    loop {
        let slice = rx.slice_len(READ_SIZE);
        tokio::select! {
            read = reader.read(&mut buf[..slice]) => {
                let n = match read {
                    Ok(0) => {
                        debug!("virtual printer: the peer closed the connection");
                        break;
                    }
                    Ok(n) => n,
                    Err(err) => {
                        debug!("virtual printer: read failed: {err}");
                        break;
                    }
                };
                rx.cross(n).await;
                let mut out = Vec::new();
                let ((), drop) = inner.with(|machine, effects| machine.feed(&mut session, &buf[..n], &mut out, effects));
                if !out.is_empty() && send(&mut writer, &mut tx, &out).await.is_err() {
                    break;
                }
                if drop {
                    close(reader, writer).await;
                    break;
                }
            }
            event = events.recv() => match event {
                Ok(Event::Status(status)) => {
                    if session.asb && send(&mut writer, &mut tx, &status.asb()).await.is_err() {
                        break;
                    }
                }
                Ok(Event::Drop) => {
                    close(reader, writer).await;
                    break;
                }
                Err(RecvError::Lagged(_)) => {
                    let status = inner.with(|machine, _| machine.status()).0;
                    if session.asb && send(&mut writer, &mut tx, &status.asb()).await.is_err() {
                        break;
                    }
                }
                Err(RecvError::Closed) => break,
            },
        }
    }
    inner.with(|machine, _| machine.close_session());
}

/// Writes the answer once it has crossed the link.
async fn send<W: AsyncWrite>(
    writer: &mut WriteHalf<W>,
    pace: &mut Pace,
    bytes: &[u8],
) -> std::io::Result<()> {
    pace.cross(bytes.len()).await;
    writer.write_all(bytes).await?;
    writer.flush().await
}

/// Drops the link: ends our direction at once (the peer reads end-of-stream), swallows
/// what the peer still had in flight, then closes both directions.
async fn close<S: AsyncRead + AsyncWrite>(mut reader: ReadHalf<S>, mut writer: WriteHalf<S>) {
    info!("virtual printer: dropping the connection");
    let _ = writer.shutdown().await;
    let deadline = tokio::time::Instant::now() + DRAIN_FOR;
    let mut sink = vec![0u8; READ_SIZE];
    while tokio::time::Instant::now() < deadline {
        match tokio::time::timeout(DRAIN_IDLE, reader.read(&mut sink)).await {
            Ok(Ok(n)) if n > 0 => continue,
            _ => break,
        }
    }
    drop((reader, writer));
}
