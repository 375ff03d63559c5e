//! The demo's wallets: each acts on its signer's driver events the way a real wallet
//! would, and reports them to the demo's observer.
//!
//! A wallet joins a request only once the observer has seen every signer receive it:
//! transports do not order messages from different senders, so a join that overtook the
//! request would be refused by a node that has not seen the request yet.

use chorus_core::crypto::Signature;
use chorus_core::discovery::{DiscoveryEvent, RequestId};
use chorus_core::node::{Event, Progress};
use chorus_core::wire::SessionId;
use sha2::{Digest, Sha256};
use tokio::sync::mpsc;

use crate::driver::{NodeEvent, NodeEvents, NodeHandle};

/// What a wallet tells the observer.
#[derive(Debug)]
pub(crate) enum Report {
    /// Boxed: events are large and most reports are events anyway.
    Event(usize, Box<NodeEvent>),
    /// The wallet ignored its turn to broadcast.
    Silent { node: usize, attempt: u32 },
    /// The wallet broadcast and confirmed.
    Broadcast { node: usize, attempt: u32 },
    /// A command the wallet gave its node failed.
    Failed { node: usize, error: String },
}

/// Acts on node `index`'s events as a wallet would, and reports them.
pub(crate) async fn wallet(
    index: usize,
    silent_attempts: u32,
    handle: NodeHandle,
    mut events: NodeEvents,
    reports: mpsc::Sender<Report>,
) {
    while let Some(event) = events.next().await {
        let received = match &event {
            NodeEvent::Discovery(DiscoveryEvent::RequestReceived { request, .. }) => Some(*request),
            _ => None,
        };
        let action = match &event {
            NodeEvent::Session(Event::ShouldBroadcast {
                session,
                attempt,
                signature,
            }) => Some(if *attempt < silent_attempts {
                Report::Silent {
                    node: index,
                    attempt: *attempt,
                }
            } else {
                broadcast(index, &handle, session, *attempt, signature).await
            }),
            _ => None,
        };
        let reported = reports.send(Report::Event(index, Box::new(event))).await;
        let action = match received {
            Some(request) => join(index, &handle, request).await,
            None => action,
        };
        let acted = match action {
            Some(action) => reports.send(action).await,
            None => Ok(()),
        };
        if reported.is_err() || acted.is_err() {
            // The observer is gone; the driver is being shut down.
            return;
        }
    }
}

/// Broadcasts (in the demo: confirms at once) the signed transaction of `session`.
async fn broadcast(
    index: usize,
    handle: &NodeHandle,
    session: &SessionId,
    attempt: u32,
    signature: &Signature,
) -> Report {
    let transaction_id = transaction_id(session, signature);
    match handle
        .notify_broadcast_complete(session, transaction_id)
        .await
    {
        Ok(()) => Report::Broadcast {
            node: index,
            attempt,
        },
        Err(error) => Report::Failed {
            node: index,
            error: format!("confirming the broadcast: {error}"),
        },
    }
}

/// Joins `request` (a join that overtakes the request at another signer is held by its
/// driver until the request arrives there).
async fn join(index: usize, handle: &NodeHandle, request: RequestId) -> Option<Report> {
    handle
        .join_request(&request, Progress::Automatic)
        .await
        .err()
        .map(|error| Report::Failed {
            node: index,
            error: format!("joining the request: {error}"),
        })
}

/// The stand-in for a real transaction id: what a broadcast would return.
fn transaction_id(session: &SessionId, signature: &Signature) -> [u8; 32] {
    let mut hasher = Sha256::new();
    hasher.update(session.0);
    hasher.update(signature.0);
    hasher.finalize().into()
}
