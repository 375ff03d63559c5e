//! The request-response codec that carries direct messages.
//!
//! One direct message is one stream: the sender writes a channel tag and the payload and
//! closes its side; the receiver reads to the end (never more than the limit, and never
//! allocating ahead of the bytes that actually arrived), answers with one acknowledgement
//! byte and closes. Each exchange therefore releases its stream, so a long-lived
//! connection never accumulates half-open streams.

use std::fmt;
use std::io;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use chorus_core::wire::Channel;
use futures::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use libp2p::request_response;
use libp2p::StreamProtocol;

/// The protocol name direct messages are exchanged under.
///
/// ```
/// assert!(chorus_libp2p::DIRECT_PROTOCOL.starts_with("/chorus/direct/"));
/// ```
pub const DIRECT_PROTOCOL: &str = "/chorus/direct/1.0.0";

/// The byte a receiver answers a well-formed direct message with.
const ACK: u8 = 0x06;

const GOSSIP_TAG: u8 = 0;
const DIRECT_TAG: u8 = 1;

/// Bytes read from a stream in one go; also the first allocation for a message.
const READ_CHUNK: usize = 4096;

/// One direct message: the channel whose limits its bytes respect, and the bytes.
///
/// On the wire it is one tag byte (`0` gossip, `1` direct) followed by the bytes, up to
/// the end of the stream.
///
/// ```
/// use chorus_core::wire::Channel;
/// use chorus_libp2p::DirectFrame;
///
/// let frame = DirectFrame { channel: Channel::Direct, bytes: vec![1, 2, 3] };
/// assert_eq!(frame.encode(), vec![1, 1, 2, 3]);
/// assert_eq!(DirectFrame::decode(frame.encode()).unwrap(), frame);
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DirectFrame {
    /// The channel.
    pub channel: Channel,
    /// The message.
    pub bytes: Vec<u8>,
}

impl DirectFrame {
    /// The frame as written on a stream.
    ///
    /// ```
    /// use chorus_core::wire::Channel;
    /// use chorus_libp2p::DirectFrame;
    ///
    /// let frame = DirectFrame { channel: Channel::Gossip, bytes: vec![9] };
    /// assert_eq!(frame.encode(), vec![0, 9]);
    /// ```
    pub fn encode(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(self.bytes.len() + 1);
        out.push(match self.channel {
            Channel::Gossip => GOSSIP_TAG,
            Channel::Direct => DIRECT_TAG,
        });
        out.extend_from_slice(&self.bytes);
        out
    }

    /// Reads a frame from the bytes of one stream.
    ///
    /// ```
    /// use chorus_libp2p::{DirectFrame, FrameError};
    ///
    /// assert_eq!(DirectFrame::decode(vec![9, 1]), Err(FrameError::UnknownChannel(9)));
    /// assert_eq!(DirectFrame::decode(vec![]), Err(FrameError::Empty));
    /// ```
    ///
    /// # Errors
    ///
    /// [`FrameError::Empty`] for no bytes, [`FrameError::UnknownChannel`] for a tag that
    /// names no channel, [`FrameError::Oversized`] for a payload over its channel's limit.
    pub fn decode(mut raw: Vec<u8>) -> Result<Self, FrameError> {
        let tag = *raw.first().ok_or(FrameError::Empty)?;
        let channel = match tag {
            GOSSIP_TAG => Channel::Gossip,
            DIRECT_TAG => Channel::Direct,
            other => return Err(FrameError::UnknownChannel(other)),
        };
        raw.remove(0);
        let limit = channel.max_message_len();
        if raw.len() > limit {
            return Err(FrameError::Oversized { limit });
        }
        Ok(DirectFrame {
            channel,
            bytes: raw,
        })
    }
}

/// Why an inbound direct message was refused.
///
/// ```
/// use chorus_libp2p::FrameError;
///
/// assert!(FrameError::Oversized { limit: 10 }.is_oversized());
/// assert!(!FrameError::Empty.is_oversized());
/// ```
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum FrameError {
    /// The stream carried more bytes than the limit.
    #[error("direct message over the {limit}-byte limit")]
    Oversized {
        /// The limit, in bytes.
        limit: usize,
    },
    /// The stream ended before the tag byte.
    #[error("empty direct message")]
    Empty,
    /// The tag byte names no channel.
    #[error("unknown channel tag {0}")]
    UnknownChannel(u8),
    /// The acknowledgement was not the expected byte.
    #[error("malformed acknowledgement")]
    BadAck,
}

impl FrameError {
    /// Whether the message was refused for its size.
    ///
    /// ```
    /// use chorus_libp2p::FrameError;
    ///
    /// assert!(FrameError::Oversized { limit: 1 }.is_oversized());
    /// assert!(!FrameError::UnknownChannel(5).is_oversized());
    /// ```
    pub fn is_oversized(&self) -> bool {
        matches!(self, FrameError::Oversized { .. })
    }

    /// The error found inside an I/O error a codec returned, if it is one of these.
    ///
    /// ```
    /// use chorus_libp2p::FrameError;
    ///
    /// let io = std::io::Error::new(std::io::ErrorKind::InvalidData, FrameError::Empty);
    /// assert_eq!(FrameError::from_io(&io), Some(&FrameError::Empty));
    /// ```
    pub fn from_io(error: &io::Error) -> Option<&FrameError> {
        error.get_ref().and_then(|inner| inner.downcast_ref())
    }
}

impl From<FrameError> for io::Error {
    fn from(error: FrameError) -> Self {
        io::Error::new(io::ErrorKind::InvalidData, error)
    }
}

/// The answer to a direct message: it arrived whole and well-formed.
///
/// ```
/// use chorus_libp2p::DirectAck;
///
/// assert_eq!(DirectAck, DirectAck::default());
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct DirectAck;

/// A request-response codec for [`DirectFrame`]s with a hard size limit.
///
/// [`Libp2pTransport`](crate::Libp2pTransport) uses it with
/// [`DirectCodec::default`] (the direct channel's limit); a program that talks to Chorus
/// nodes from its own libp2p swarm can use it too. Requests it refuses never reach the
/// behaviour (libp2p drops them silently), so the codec counts them itself; clones share
/// the counts.
///
/// ```
/// use chorus_core::wire::Channel;
/// use chorus_libp2p::DirectCodec;
///
/// let codec = DirectCodec::default();
/// assert_eq!(codec.limit(), Channel::Direct.max_message_len() + 1);
/// assert_eq!(DirectCodec::with_limit(10).limit(), 10);
/// assert_eq!(codec.refused(), Default::default());
/// ```
#[derive(Clone)]
pub struct DirectCodec {
    limit: usize,
    refused: Arc<RefusalCounts>,
}

#[derive(Default)]
struct RefusalCounts {
    oversized: AtomicU64,
    malformed: AtomicU64,
    broken: AtomicU64,
}

/// How many inbound direct messages a [`DirectCodec`] refused while reading them.
///
/// ```
/// let refused = chorus_libp2p::DirectCodec::default().refused();
/// assert_eq!(refused.oversized + refused.malformed + refused.broken, 0);
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct RefusedRequests {
    /// Over the size limit (of the stream, or of the tagged channel).
    pub oversized: u64,
    /// Empty, or tagged with no known channel.
    pub malformed: u64,
    /// The stream failed while being read (reset, closed, timed out).
    pub broken: u64,
}

impl DirectCodec {
    /// A codec that reads at most `limit` bytes (tag included) from a request stream.
    ///
    /// ```
    /// let codec = chorus_libp2p::DirectCodec::with_limit(1 << 20);
    /// assert_eq!(codec.limit(), 1 << 20);
    /// ```
    pub fn with_limit(limit: usize) -> Self {
        DirectCodec {
            limit,
            refused: Arc::default(),
        }
    }

    /// The most bytes (tag included) this codec reads from one request stream.
    ///
    /// ```
    /// use chorus_core::wire::Channel;
    ///
    /// let codec = chorus_libp2p::DirectCodec::default();
    /// assert_eq!(codec.limit(), Channel::Direct.max_message_len() + 1);
    /// ```
    pub fn limit(&self) -> usize {
        self.limit
    }

    /// The requests this codec and its clones have refused so far.
    ///
    /// ```
    /// let codec = chorus_libp2p::DirectCodec::default();
    /// let clone = codec.clone();
    /// assert_eq!(clone.refused(), codec.refused());
    /// assert_eq!(codec.refused().oversized, 0);
    /// ```
    pub fn refused(&self) -> RefusedRequests {
        RefusedRequests {
            oversized: self.refused.oversized.load(Ordering::Relaxed),
            malformed: self.refused.malformed.load(Ordering::Relaxed),
            broken: self.refused.broken.load(Ordering::Relaxed),
        }
    }

    /// The protocol this codec is registered under.
    ///
    /// ```
    /// assert_eq!(chorus_libp2p::DirectCodec::protocol().as_ref(), chorus_libp2p::DIRECT_PROTOCOL);
    /// ```
    pub fn protocol() -> StreamProtocol {
        StreamProtocol::new(DIRECT_PROTOCOL)
    }

    fn count_refusal(&self, error: &io::Error) {
        let counter = match FrameError::from_io(error) {
            Some(frame) if frame.is_oversized() => &self.refused.oversized,
            Some(_) => &self.refused.malformed,
            None => &self.refused.broken,
        };
        counter.fetch_add(1, Ordering::Relaxed);
    }
}

impl Default for DirectCodec {
    fn default() -> Self {
        DirectCodec::with_limit(Channel::Direct.max_message_len() + 1)
    }
}

impl fmt::Debug for DirectCodec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DirectCodec")
            .field("limit", &self.limit)
            .field("refused", &self.refused())
            .finish()
    }
}

impl request_response::Codec for DirectCodec {
    type Protocol = StreamProtocol;
    type Request = DirectFrame;
    type Response = DirectAck;

    async fn read_request<T>(&mut self, _: &StreamProtocol, io: &mut T) -> io::Result<DirectFrame>
    where
        T: AsyncRead + Unpin + Send,
    {
        let frame = match read_bounded(io, self.limit).await {
            Ok(raw) => DirectFrame::decode(raw).map_err(io::Error::from),
            Err(error) => Err(error),
        };
        if let Err(error) = &frame {
            self.count_refusal(error);
        }
        frame
    }

    async fn read_response<T>(&mut self, _: &StreamProtocol, io: &mut T) -> io::Result<DirectAck>
    where
        T: AsyncRead + Unpin + Send,
    {
        match read_bounded(io, 1).await?.as_slice() {
            [ACK] => Ok(DirectAck),
            _ => Err(FrameError::BadAck.into()),
        }
    }

    async fn write_request<T>(
        &mut self,
        _: &StreamProtocol,
        io: &mut T,
        frame: DirectFrame,
    ) -> io::Result<()>
    where
        T: AsyncWrite + Unpin + Send,
    {
        io.write_all(&frame.encode()).await
    }

    async fn write_response<T>(
        &mut self,
        _: &StreamProtocol,
        io: &mut T,
        _: DirectAck,
    ) -> io::Result<()>
    where
        T: AsyncWrite + Unpin + Send,
    {
        io.write_all(&[ACK]).await
    }
}

/// Reads `io` to its end, refusing it as soon as it exceeds `limit` bytes; the buffer
/// grows only as bytes arrive and its capacity never exceeds `limit`.
async fn read_bounded<T>(io: &mut T, limit: usize) -> io::Result<Vec<u8>>
where
    T: AsyncRead + Unpin + Send,
{
    let mut out = Vec::new();
    let mut chunk = [0u8; READ_CHUNK];
    loop {
        let read = io.read(&mut chunk).await?;
        let Some(arrived) = chunk.get(..read) else {
            return Err(io::ErrorKind::InvalidData.into());
        };
        if arrived.is_empty() {
            return Ok(out);
        }
        let needed = out.len() + arrived.len();
        if needed > limit {
            return Err(FrameError::Oversized { limit }.into());
        }
        if needed > out.capacity() {
            let target = (out.capacity() * 2).max(READ_CHUNK).max(needed).min(limit);
            out.reserve_exact(target - out.len());
        }
        out.extend_from_slice(arrived);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(bytes: &[u8], limit: usize) -> io::Result<Vec<u8>> {
        let mut io = futures::io::Cursor::new(bytes.to_vec());
        futures::executor::block_on(read_bounded(&mut io, limit))
    }

    #[test]
    fn reads_up_to_the_limit_and_refuses_one_byte_more() {
        let limit = Channel::Direct.max_message_len() + 1;
        let exact = vec![7u8; limit];
        let read_back = read(&exact, limit).unwrap();
        assert_eq!(read_back, exact);
        assert!(read_back.capacity() <= limit);
        let error = read(&vec![7u8; limit + 1], limit).unwrap_err();
        assert!(FrameError::from_io(&error).is_some_and(FrameError::is_oversized));
    }

    #[test]
    fn frames_round_trip_and_refuse_a_gossip_payload_over_its_limit() {
        for channel in [Channel::Gossip, Channel::Direct] {
            let frame = DirectFrame {
                channel,
                bytes: vec![3; channel.max_message_len()],
            };
            assert_eq!(DirectFrame::decode(frame.encode()), Ok(frame));
        }
        let mut too_big = vec![GOSSIP_TAG];
        too_big.resize(Channel::Gossip.max_message_len() + 2, 0);
        assert!(DirectFrame::decode(too_big).unwrap_err().is_oversized());
    }
}
