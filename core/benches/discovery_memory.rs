//! Resident memory of discovery state under the default `SecurityLimits`:
//!
//! - `typical`: 100,000 pending signing requests in one `RequestBook` and 100,000
//!   advertisements in one `SignerDirectory`, with typical record sizes — every one of them
//!   must be held;
//! - `largest`: both stores flooded with the largest records the field bounds allow, which
//!   the memory budgets must cap.
//!
//! Each scenario runs in a child process of its own (memory freed by one would hide the
//! growth of the next), reads `/proc/self/statm` before and after filling the stores, and
//! fails if the growth reaches 200 MB. Run with
//! `cargo bench -p chorus-core --bench discovery_memory` (Linux only).
// A benchmark reads the clock and /proc; the core it measures never does.
#![allow(clippy::disallowed_methods)]

use std::time::{Duration, Instant};

use chorus_core::crypto::{Dialect, Keypair, PublicKey, SecretKey};
use chorus_core::discovery::*;
use chorus_core::node::PeerId;
use chorus_core::security::SecurityLimits;
use chorus_core::time::Timestamp;

const RECORDS: usize = 100_000;
const CREATORS: usize = 10_000;
const LIMIT_BYTES: u64 = 200_000_000;
const HOUR: Duration = Duration::from_secs(3_600);
const SCENARIO: &str = "CHORUS_DISCOVERY_MEMORY_SCENARIO";

/// Resident set size in bytes: `/proc/self/statm`'s resident page count times the page
/// size (`KernelPageSize` of `/proc/self/smaps`, 4 KiB when absent).
fn resident_bytes() -> u64 {
    let statm = std::fs::read_to_string("/proc/self/statm").expect("/proc/self/statm (Linux only)");
    let pages: u64 = statm
        .split_whitespace()
        .nth(1)
        .and_then(|field| field.parse().ok())
        .expect("statm's second field is the resident page count");
    pages * page_size()
}

fn page_size() -> u64 {
    std::fs::read_to_string("/proc/self/smaps")
        .ok()
        .and_then(|smaps| {
            smaps
                .lines()
                .find_map(|line| line.strip_prefix("KernelPageSize:"))
                .and_then(|rest| {
                    rest.trim()
                        .trim_end_matches("kB")
                        .trim()
                        .parse::<u64>()
                        .ok()
                })
        })
        .map_or(4_096, |kib| kib * 1_024)
}

fn keypair(index: u64) -> Keypair {
    let mut bytes = [0x5c; 32];
    bytes[..8].copy_from_slice(&index.to_be_bytes());
    Keypair::from_secret_key(&SecretKey::from_secret_bytes(bytes).expect("valid secret"))
}

fn mb(bytes: u64) -> f64 {
    bytes as f64 / 1e6
}

fn stores(limits: &SecurityLimits) -> (RequestBook, SignerDirectory) {
    let book = RequestBook::new(
        limits.max_pending_requests,
        limits.max_pending_requests_per_peer,
        limits.max_pending_memory,
        limits.max_clock_skew,
    );
    let directory = SignerDirectory::new(
        limits.max_directory_entries,
        limits.max_directory_memory,
        limits.max_clock_skew,
    );
    (book, directory)
}

/// A typical advertisement: two transaction types, a short nickname and description,
/// fees and a reputation.
fn typical_advertisement(keypair: &Keypair, now: Timestamp, index: usize) -> SignerAdvertisement {
    let mut criteria = SignerCriteria::new(["spend", "swap"]);
    criteria.max_amount = Some(100_000_000);
    let metadata = SignerMetadata {
        nickname: format!("signer-{index}"),
        description: "Co-signs spends and swaps, usually within a minute.".into(),
        fees: Some(1_000),
        response_time_ms: Some(30_000),
        reputation: Some(AdvertisedReputation {
            score: 80,
            completed_signings: 120,
            failed_signings: 2,
            average_response_time_ms: 25_000,
            verified_identity: false,
        }),
    };
    let content = AdvertisementContent::new(
        PeerId::from_key(&keypair.public_key()),
        criteria,
        metadata,
        now,
        HOUR,
    );
    SignerAdvertisement::sign(content, keypair, &[0; 32])
}

/// A typical request: three signers, a 250-byte transaction, a short description.
fn typical_request(
    creator: &Keypair,
    others: [PublicKey; 2],
    now: Timestamp,
    index: usize,
) -> SigningRequest {
    let mut content = RequestContent::new(
        &[creator.public_key(), others[0], others[1]],
        [0; 32],
        Dialect::Bip340,
        now,
        HOUR,
    );
    content.message[..8].copy_from_slice(&(index as u64).to_be_bytes());
    content.metadata = RequestMetadata {
        transaction: vec![0x02; 250],
        amount: Some(5_000_000),
        transaction_type: Some("spend".into()),
        description: "3-of-3 spend from the shared vault".into(),
    };
    SigningRequest::sign(content, creator, &[0; 32])
}

/// The advertisement with the most memory per byte the bounds allow: sixteen one-letter
/// transaction types (sixteen heap blocks), the longest peer id, nickname and description.
fn largest_advertisement(keypair: &Keypair, now: Timestamp, index: usize) -> SignerAdvertisement {
    let criteria = SignerCriteria::new((b'a'..=b'p').map(|letter| char::from(letter).to_string()));
    let metadata = SignerMetadata {
        nickname: "n".repeat(MAX_NICKNAME_LEN),
        description: "d".repeat(MAX_DESCRIPTION_LEN),
        ..SignerMetadata::default()
    };
    let mut peer = vec![0xee; MAX_PEER_ID_LEN];
    peer[..8].copy_from_slice(&(index as u64).to_be_bytes());
    let content = AdvertisementContent::new(PeerId::new(peer), criteria, metadata, now, HOUR);
    SignerAdvertisement::sign(content, keypair, &[0; 32])
}

/// The largest request the bounds allow: 100 keys, a 4,096-byte transaction, the longest
/// type and description.
fn largest_request(
    creator: &Keypair,
    keys: &[PublicKey],
    now: Timestamp,
    index: usize,
) -> SigningRequest {
    let mut content = RequestContent::new(keys, [0; 32], Dialect::Bip340, now, HOUR);
    content.message[..8].copy_from_slice(&(index as u64).to_be_bytes());
    content.metadata = RequestMetadata {
        transaction: vec![0xff; MAX_TRANSACTION_LEN],
        amount: Some(u64::MAX),
        transaction_type: Some("t".repeat(MAX_TRANSACTION_TYPE_LEN)),
        description: "d".repeat(MAX_DESCRIPTION_LEN),
    };
    SigningRequest::sign(content, creator, &[0; 32])
}

/// Fills both stores with typical records; every one must be held.
fn typical(book: &mut RequestBook, directory: &mut SignerDirectory, now: Timestamp) {
    let creators: Vec<Keypair> = (0..CREATORS as u64).map(keypair).collect();
    let peers: Vec<PeerId> = creators
        .iter()
        .map(|key| PeerId::from_key(&key.public_key()))
        .collect();
    for index in 0..RECORDS {
        let creator = index % CREATORS;
        let others = [
            creators[(creator + 1) % CREATORS].public_key(),
            creators[(creator + 2) % CREATORS].public_key(),
        ];
        let admission = book
            .insert(
                now,
                typical_request(&creators[creator], others, now, index),
                &peers[creator],
            )
            .expect("typical request accepted");
        assert!(
            admission.evicted.is_empty(),
            "the default limits hold 100,000 typical requests"
        );
        let signer = keypair(1_000_000 + index as u64);
        let insert = directory
            .insert(
                now,
                typical_advertisement(&signer, now, index),
                &PeerId::from_key(&signer.public_key()),
            )
            .expect("typical advertisement accepted");
        assert!(
            insert.evicted.is_empty(),
            "the default limits hold 100,000 typical advertisements"
        );
    }
    assert_eq!((book.len(), directory.len()), (RECORDS, RECORDS));

    let started = Instant::now();
    let filter = SignerFilter {
        transaction_type: Some("swap".into()),
        amount: Some(5_000_000),
        ..SignerFilter::default()
    };
    let found = directory.find(now, &filter).len();
    println!(
        "  find_signers      {:>8.1} ms over {RECORDS} entries ({found} results)",
        started.elapsed().as_secs_f64() * 1e3
    );
    let started = Instant::now();
    let mine = book.requests_for(now, &creators[7].public_key()).len();
    println!(
        "  requests_for      {:>8.1} ms over {RECORDS} requests ({mine} for one key)",
        started.elapsed().as_secs_f64() * 1e3
    );
}

/// Floods both stores with the largest records; the budgets must cap them.
fn largest(book: &mut RequestBook, directory: &mut SignerDirectory, now: Timestamp) {
    let keys: Vec<Keypair> = (0..MAX_REQUIRED_KEYS as u64).map(keypair).collect();
    let public: Vec<PublicKey> = keys.iter().map(Keypair::public_key).collect();
    let mut evicted = 0;
    for index in 0..20_000 {
        let request = largest_request(&keys[index % keys.len()], &public, now, index);
        let peer = PeerId::new((index as u32).to_be_bytes());
        evicted += book
            .insert(now, request, &peer)
            .expect("largest request accepted")
            .evicted
            .len();
    }
    println!(
        "  requests          {:>8} held, {evicted} evicted by the memory budget",
        book.len()
    );
    let mut evicted = 0;
    for index in 0..RECORDS {
        let signer = keypair(1_000_000 + index as u64);
        let advertisement = largest_advertisement(&signer, now, index);
        let peer = advertisement.content.peer.clone();
        evicted += directory
            .insert(now, advertisement, &peer)
            .expect("largest advertisement accepted")
            .evicted
            .len();
    }
    println!(
        "  advertisements    {:>8} held, {evicted} evicted by the memory budget",
        directory.len()
    );
}

fn run(scenario: &str) {
    let now = Timestamp::from_millis(1_700_000_000_000);
    let limits = SecurityLimits::default();
    let (mut book, mut directory) = stores(&limits);
    let before = resident_bytes();
    let started = Instant::now();
    match scenario {
        "typical" => typical(&mut book, &mut directory, now),
        "largest" => largest(&mut book, &mut directory, now),
        other => panic!("unknown scenario {other}"),
    }
    let growth = resident_bytes().saturating_sub(before);
    let estimate = (book.memory() + directory.memory()) as u64;
    println!(
        "  filled in         {:>8.1} s",
        started.elapsed().as_secs_f64()
    );
    println!(
        "  estimated         {:>8.1} MB (book {:.1} MB + directory {:.1} MB)",
        mb(estimate),
        mb(book.memory() as u64),
        mb(directory.memory() as u64)
    );
    println!(
        "  resident growth   {:>8.1} MB ({:.0} bytes per request + advertisement)",
        mb(growth),
        growth as f64 / (book.len() + directory.len()).max(1) as f64 * 2.0
    );
    assert!(
        growth < LIMIT_BYTES,
        "{scenario}: discovery state grew by {:.1} MB, over 200 MB",
        mb(growth)
    );
    drop((book, directory));
}

fn main() {
    if let Ok(scenario) = std::env::var(SCENARIO) {
        run(&scenario);
        return;
    }
    let executable = std::env::current_exe().expect("the bench's own path");
    for scenario in ["typical", "largest"] {
        println!("discovery memory, {scenario} records, default limits:");
        let status = std::process::Command::new(&executable)
            .env(SCENARIO, scenario)
            .status()
            .expect("the bench runs itself");
        assert!(status.success(), "scenario {scenario} failed");
    }
}
