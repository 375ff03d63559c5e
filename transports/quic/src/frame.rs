//! The frames carried on QUIC streams, one frame per unidirectional stream.
//!
//! A frame is a kind byte, a kind-specific header, then (for kinds with a payload) a
//! 4-byte big-endian payload length and the payload; the stream then ends. The length is
//! checked against the channel's limit before anything is allocated for the payload.

use chorus_core::wire::Channel;
use tokio::io::{AsyncRead, AsyncReadExt};

/// Direct bytes on [`Channel::Gossip`]: length, payload.
const KIND_DIRECT_GOSSIP: u8 = 0x00;
/// Direct bytes on [`Channel::Direct`]: length, payload.
const KIND_DIRECT: u8 = 0x01;
/// A publication: topic length (1 byte), UTF-8 topic, length, payload.
const KIND_PUBLICATION: u8 = 0x02;
/// A record to store: 32-byte key, length, payload.
const KIND_RECORD: u8 = 0x03;
/// A record lookup: 32-byte key.
const KIND_RECORD_LOOKUP: u8 = 0x04;
/// The answer to a lookup: 32-byte key, length, payload.
const KIND_RECORD_REPLY: u8 = 0x05;

/// The longest topic a frame carries, in bytes.
pub(crate) const MAX_TOPIC_LEN: usize = u8::MAX as usize;

/// One message on one stream.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Frame {
    /// Bytes for the receiving node, on a channel.
    Direct { channel: Channel, bytes: Vec<u8> },
    /// Bytes published on a topic.
    Publication { topic: String, bytes: Vec<u8> },
    /// A record the receiver stores for lookups.
    Record { key: [u8; 32], bytes: Vec<u8> },
    /// A request for the record stored under `key`.
    RecordLookup { key: [u8; 32] },
    /// A stored record, answering a lookup.
    RecordReply { key: [u8; 32], bytes: Vec<u8> },
}

/// Why a frame could not be encoded or read.
#[derive(Debug, thiserror::Error)]
pub(crate) enum FrameError {
    #[error("payload of {got} bytes exceeds the {limit}-byte limit")]
    Oversized { limit: usize, got: u64 },
    #[error("topic of {0} bytes is empty or longer than {MAX_TOPIC_LEN}")]
    BadTopicLength(usize),
    #[error("topic is not UTF-8")]
    TopicNotUtf8,
    #[error("unknown frame kind {0:#04x}")]
    UnknownKind(u8),
    #[error("the stream ended inside a frame")]
    Truncated,
    #[error("bytes after the end of the frame")]
    TrailingBytes,
    #[error("stream error: {0}")]
    Io(std::io::Error),
}

impl From<std::io::Error> for FrameError {
    fn from(error: std::io::Error) -> Self {
        if error.kind() == std::io::ErrorKind::UnexpectedEof {
            FrameError::Truncated
        } else {
            FrameError::Io(error)
        }
    }
}

impl Frame {
    /// The frame's bytes.
    ///
    /// # Errors
    ///
    /// [`FrameError::Oversized`] if the payload exceeds its channel's limit,
    /// [`FrameError::BadTopicLength`] for an empty or overlong topic.
    pub(crate) fn encode(&self) -> Result<Vec<u8>, FrameError> {
        let mut out = Vec::with_capacity(64 + self.payload().map_or(0, <[u8]>::len));
        match self {
            Frame::Direct { channel, .. } => out.push(match channel {
                Channel::Gossip => KIND_DIRECT_GOSSIP,
                Channel::Direct => KIND_DIRECT,
            }),
            Frame::Publication { topic, .. } => {
                let len = u8::try_from(topic.len())
                    .ok()
                    .filter(|len| *len > 0)
                    .ok_or(FrameError::BadTopicLength(topic.len()))?;
                out.push(KIND_PUBLICATION);
                out.push(len);
                out.extend_from_slice(topic.as_bytes());
            }
            Frame::Record { key, .. } => {
                out.push(KIND_RECORD);
                out.extend_from_slice(key);
            }
            Frame::RecordLookup { key } => {
                out.push(KIND_RECORD_LOOKUP);
                out.extend_from_slice(key);
            }
            Frame::RecordReply { key, .. } => {
                out.push(KIND_RECORD_REPLY);
                out.extend_from_slice(key);
            }
        }
        if let Some(payload) = self.payload() {
            let limit = self.channel().max_message_len();
            let len = u32::try_from(payload.len())
                .ok()
                .filter(|len| *len as usize <= limit)
                .ok_or(FrameError::Oversized {
                    limit,
                    got: payload.len() as u64,
                })?;
            out.extend_from_slice(&len.to_be_bytes());
            out.extend_from_slice(payload);
        }
        Ok(out)
    }

    /// The channel whose size limit the payload respects.
    pub(crate) fn channel(&self) -> Channel {
        match self {
            Frame::Direct { channel, .. } => *channel,
            _ => Channel::Gossip,
        }
    }

    fn payload(&self) -> Option<&[u8]> {
        match self {
            Frame::Direct { bytes, .. }
            | Frame::Publication { bytes, .. }
            | Frame::Record { bytes, .. }
            | Frame::RecordReply { bytes, .. } => Some(bytes),
            Frame::RecordLookup { .. } => None,
        }
    }
}

/// Reads one frame, then checks that the stream ends.
///
/// The payload buffer is allocated only after its announced length passed the channel's
/// limit.
///
/// # Errors
///
/// A [`FrameError`] for anything but exactly one well-formed frame.
pub(crate) async fn read_frame<R: AsyncRead + Unpin>(reader: &mut R) -> Result<Frame, FrameError> {
    let kind = reader.read_u8().await?;
    let frame = match kind {
        KIND_DIRECT_GOSSIP | KIND_DIRECT => {
            let channel = if kind == KIND_DIRECT {
                Channel::Direct
            } else {
                Channel::Gossip
            };
            let bytes = read_payload(reader, channel).await?;
            Frame::Direct { channel, bytes }
        }
        KIND_PUBLICATION => {
            let len = usize::from(reader.read_u8().await?);
            if len == 0 {
                return Err(FrameError::BadTopicLength(0));
            }
            let mut topic = [0u8; MAX_TOPIC_LEN];
            let topic = &mut topic[..len];
            reader.read_exact(topic).await?;
            let topic = std::str::from_utf8(topic)
                .map_err(|_| FrameError::TopicNotUtf8)?
                .to_owned();
            let bytes = read_payload(reader, Channel::Gossip).await?;
            Frame::Publication { topic, bytes }
        }
        KIND_RECORD | KIND_RECORD_LOOKUP | KIND_RECORD_REPLY => {
            let mut key = [0u8; 32];
            reader.read_exact(&mut key).await?;
            match kind {
                KIND_RECORD_LOOKUP => Frame::RecordLookup { key },
                KIND_RECORD => Frame::Record {
                    key,
                    bytes: read_payload(reader, Channel::Gossip).await?,
                },
                _ => Frame::RecordReply {
                    key,
                    bytes: read_payload(reader, Channel::Gossip).await?,
                },
            }
        }
        other => return Err(FrameError::UnknownKind(other)),
    };
    let mut extra = [0u8; 1];
    if reader.read(&mut extra).await? != 0 {
        return Err(FrameError::TrailingBytes);
    }
    Ok(frame)
}

async fn read_payload<R: AsyncRead + Unpin>(
    reader: &mut R,
    channel: Channel,
) -> Result<Vec<u8>, FrameError> {
    let len = reader.read_u32().await?;
    let limit = channel.max_message_len();
    if u64::from(len) > limit as u64 {
        return Err(FrameError::Oversized {
            limit,
            got: u64::from(len),
        });
    }
    let mut bytes = vec![0u8; len as usize];
    reader.read_exact(&mut bytes).await?;
    Ok(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(bytes: &[u8]) -> Result<Frame, FrameError> {
        let mut reader = bytes;
        futures::executor::block_on(read_frame(&mut reader))
    }

    fn samples() -> Vec<Frame> {
        vec![
            Frame::Direct {
                channel: Channel::Direct,
                bytes: vec![1, 2, 3],
            },
            Frame::Direct {
                channel: Channel::Gossip,
                bytes: Vec::new(),
            },
            Frame::Publication {
                topic: "chorus/requests/v1".into(),
                bytes: vec![9; 100],
            },
            Frame::Record {
                key: [7; 32],
                bytes: vec![5; 10],
            },
            Frame::RecordLookup { key: [8; 32] },
            Frame::RecordReply {
                key: [6; 32],
                bytes: vec![4],
            },
        ]
    }

    #[test]
    fn frames_round_trip() {
        for frame in samples() {
            assert_eq!(read(&frame.encode().unwrap()).unwrap(), frame);
        }
    }

    #[test]
    fn the_layout_is_kind_header_length_payload() {
        let frame = Frame::Publication {
            topic: "ab".into(),
            bytes: vec![0xee; 3],
        };
        assert_eq!(
            frame.encode().unwrap(),
            [0x02, 2, b'a', b'b', 0, 0, 0, 3, 0xee, 0xee, 0xee]
        );
        let direct = Frame::Direct {
            channel: Channel::Direct,
            bytes: vec![0x11],
        };
        assert_eq!(direct.encode().unwrap(), [0x01, 0, 0, 0, 1, 0x11]);
    }

    #[test]
    fn payload_limits_follow_the_channel() {
        let gossip_limit = Channel::Gossip.max_message_len();
        let direct_limit = Channel::Direct.max_message_len();
        let at_limit = Frame::Direct {
            channel: Channel::Direct,
            bytes: vec![0; direct_limit],
        };
        assert_eq!(read(&at_limit.encode().unwrap()).unwrap(), at_limit);
        let over = Frame::Direct {
            channel: Channel::Direct,
            bytes: vec![0; direct_limit + 1],
        };
        assert!(matches!(over.encode(), Err(FrameError::Oversized { .. })));
        let published = Frame::Publication {
            topic: "t".into(),
            bytes: vec![0; gossip_limit + 1],
        };
        assert!(matches!(
            published.encode(),
            Err(FrameError::Oversized { .. })
        ));
        let record = Frame::Record {
            key: [0; 32],
            bytes: vec![0; gossip_limit + 1],
        };
        assert!(matches!(record.encode(), Err(FrameError::Oversized { .. })));
    }

    #[test]
    fn an_oversized_length_is_refused_before_the_payload() {
        // Announces 4 GiB - 1 and sends nothing more: refused from the length alone.
        let error = read(&[0x01, 0xff, 0xff, 0xff, 0xff]).unwrap_err();
        assert!(matches!(
            error,
            FrameError::Oversized {
                got: 0xffff_ffff,
                ..
            }
        ));
        let gossip_over = (Channel::Gossip.max_message_len() as u32 + 1).to_be_bytes();
        let mut record = vec![0x03];
        record.extend_from_slice(&[0; 32]);
        record.extend_from_slice(&gossip_over);
        assert!(matches!(read(&record), Err(FrameError::Oversized { .. })));
    }

    #[test]
    fn malformed_streams_are_refused() {
        assert!(matches!(read(&[]), Err(FrameError::Truncated)));
        assert!(matches!(read(&[0x09]), Err(FrameError::UnknownKind(0x09))));
        assert!(matches!(
            read(&[0x01, 0, 0, 0, 2, 1]),
            Err(FrameError::Truncated)
        ));
        assert!(matches!(
            read(&[0x01, 0, 0, 0, 1, 1, 2]),
            Err(FrameError::TrailingBytes)
        ));
        assert!(matches!(
            read(&[0x02, 0]),
            Err(FrameError::BadTopicLength(0))
        ));
        assert!(matches!(
            read(&[0x02, 1, 0xff, 0, 0, 0, 0]),
            Err(FrameError::TopicNotUtf8)
        ));
        assert!(matches!(read(&[0x04, 1, 2]), Err(FrameError::Truncated)));
    }

    #[test]
    fn topics_must_fit_one_length_byte() {
        let long = Frame::Publication {
            topic: "x".repeat(MAX_TOPIC_LEN + 1),
            bytes: Vec::new(),
        };
        assert!(matches!(
            long.encode(),
            Err(FrameError::BadTopicLength(256))
        ));
        let empty = Frame::Publication {
            topic: String::new(),
            bytes: Vec::new(),
        };
        assert!(matches!(empty.encode(), Err(FrameError::BadTopicLength(0))));
        let longest = Frame::Publication {
            topic: "x".repeat(MAX_TOPIC_LEN),
            bytes: Vec::new(),
        };
        assert_eq!(read(&longest.encode().unwrap()).unwrap(), longest);
    }
}
