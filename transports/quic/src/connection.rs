//! Reading frames from a connection's streams and writing one frame per stream.

use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use chorus_core::node::PeerId;
use chorus_core::transport::Incoming;
use chorus_core::wire::Channel;
use quinn::{Connection, ConnectionError, RecvStream, VarInt};
use tokio::sync::mpsc;
use tokio::task::JoinSet;

use crate::frame::{read_frame, Frame, FrameError};
use crate::records::{RecordStore, StoredRecord};

/// Stream error code: the announced payload exceeds the channel's limit.
pub(crate) const STREAM_OVERSIZED: VarInt = VarInt::from_u32(1);
/// Stream error code: the stream does not hold exactly one well-formed frame.
pub(crate) const STREAM_MALFORMED: VarInt = VarInt::from_u32(2);
/// Stream error code: the frame did not arrive within the idle timeout.
pub(crate) const STREAM_TIMEOUT: VarInt = VarInt::from_u32(3);

/// Connection close code: the transport is shutting down.
pub(crate) const CLOSE_SHUTDOWN: VarInt = VarInt::from_u32(0);
/// Connection close code: the peer has more connections than it needs.
pub(crate) const CLOSE_EXCESS: VarInt = VarInt::from_u32(1);
/// Connection close code: the peer is not (or no longer) a member of the group.
pub(crate) const CLOSE_REFUSED: VarInt = VarInt::from_u32(2);

/// What the network tasks hand to the transport.
#[derive(Debug)]
pub(crate) enum Delivery {
    /// An item for the driver as is.
    Incoming(Incoming),
    /// A publication, delivered only if the transport subscribed to its topic.
    Publication {
        topic: String,
        from: PeerId,
        bytes: Vec<u8>,
    },
}

/// What every connection task needs: where deliveries go and the record store.
#[derive(Debug, Clone)]
pub(crate) struct Shared {
    pub(crate) deliveries: mpsc::Sender<Delivery>,
    pub(crate) records: Arc<Mutex<RecordStore>>,
    pub(crate) frame_timeout: Duration,
}

impl Shared {
    /// Hands `delivery` to the transport, waiting for room; dropped if the transport is gone.
    pub(crate) async fn deliver(&self, delivery: Delivery) {
        // An error means the transport was dropped and nobody is listening any more.
        let _ = self.deliveries.send(delivery).await;
    }

    pub(crate) fn records(&self) -> std::sync::MutexGuard<'_, RecordStore> {
        self.records.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// Writes `frame` on a new unidirectional stream and finishes it.
///
/// # Errors
///
/// Why the stream could not be opened or written (the connection is gone).
pub(crate) async fn write_frame(connection: &Connection, frame: &[u8]) -> Result<(), String> {
    let mut stream = connection
        .open_uni()
        .await
        .map_err(|error| error.to_string())?;
    stream
        .write_all(frame)
        .await
        .map_err(|error| error.to_string())?;
    stream.finish().map_err(|error| error.to_string())
}

/// Reads every stream the peer opens until the connection ends; returns why it ended.
pub(crate) async fn read_connection(
    connection: Connection,
    from: PeerId,
    shared: Shared,
) -> ConnectionError {
    let mut streams = JoinSet::new();
    loop {
        tokio::select! {
            accepted = connection.accept_uni() => match accepted {
                Ok(stream) => {
                    streams.spawn(read_stream(stream, connection.clone(), from.clone(), shared.clone()));
                }
                Err(error) => return error,
            },
            Some(_) = streams.join_next(), if !streams.is_empty() => {}
        }
    }
}

/// Reads one frame from `stream` and acts on it; a bad frame stops only this stream.
async fn read_stream(mut stream: RecvStream, connection: Connection, from: PeerId, shared: Shared) {
    let frame = match tokio::time::timeout(shared.frame_timeout, read_frame(&mut stream)).await {
        Ok(Ok(frame)) => frame,
        Ok(Err(FrameError::Io(_))) => return, // the peer reset the stream or the connection ended
        Ok(Err(error)) => {
            tracing::debug!(peer = %from, %error, "refusing a frame");
            let code = match error {
                FrameError::Oversized { .. } => STREAM_OVERSIZED,
                _ => STREAM_MALFORMED,
            };
            // Fails only if the stream already ended, in which case there is nothing to stop.
            let _ = stream.stop(code);
            return;
        }
        Err(_) => {
            tracing::debug!(peer = %from, "a frame took longer than the idle timeout");
            let _ = stream.stop(STREAM_TIMEOUT);
            return;
        }
    };
    handle_frame(frame, &connection, from, &shared).await;
}

async fn handle_frame(frame: Frame, connection: &Connection, from: PeerId, shared: &Shared) {
    match frame {
        Frame::Direct { channel, bytes } => {
            shared
                .deliver(Delivery::Incoming(Incoming::Message {
                    from,
                    channel,
                    bytes,
                }))
                .await;
        }
        Frame::Publication { topic, bytes } => {
            shared
                .deliver(Delivery::Publication { topic, from, bytes })
                .await;
        }
        Frame::Record { key, bytes } => {
            shared.records().insert(
                key,
                StoredRecord {
                    author: from,
                    bytes,
                },
            );
        }
        Frame::RecordLookup { key } => {
            let stored = shared
                .records()
                .get(&key)
                .map(|record| record.bytes.clone());
            if let Some(bytes) = stored {
                let reply = Frame::RecordReply { key, bytes };
                match reply.encode() {
                    Ok(reply) => {
                        if let Err(reason) = write_frame(connection, &reply).await {
                            tracing::debug!(peer = %from, %reason, "could not answer a record lookup");
                        }
                    }
                    Err(error) => tracing::debug!(%error, "a stored record does not fit a frame"),
                }
            }
        }
        Frame::RecordReply { key, bytes } => {
            let wanted = {
                let mut records = shared.records();
                let wanted = records.answer(&key);
                if wanted {
                    records.insert(
                        key,
                        StoredRecord {
                            author: from.clone(),
                            bytes: bytes.clone(),
                        },
                    );
                }
                wanted
            };
            if wanted {
                let incoming = Incoming::Message {
                    from,
                    channel: Channel::Gossip,
                    bytes,
                };
                shared.deliver(Delivery::Incoming(incoming)).await;
            }
        }
    }
}
