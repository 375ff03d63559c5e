//! One run, drawn for a person: a Mermaid sequence diagram, or a self-contained HTML page
//! with an SVG of the same, marking phases, messages, drops, rejections and failovers.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use crate::plan::SEC;
use crate::sim::Outcome;
use crate::trace::TraceRecord;

/// Events worth a note in a diagram (the others are implied by the messages).
const NOTABLE: [&str; 11] = [
    "session_created",
    "session_ready",
    "nonces_complete",
    "session_complete",
    "should_broadcast",
    "coordinator_failed",
    "aggregator_failed",
    "failover_exhausted",
    "broadcast_confirmed",
    "session_aborted",
    "session_expired",
];

/// What a message's arrows say about it.
struct Label {
    kind: String,
    session: String,
    attempt: Option<u32>,
    injected: bool,
}

impl Label {
    fn text(&self) -> String {
        let attempt = self.attempt.map(|a| format!(" a{a}")).unwrap_or_default();
        let made_up = if self.injected { " (made up)" } else { "" };
        format!("{}{attempt} [{}]{made_up}", self.kind, self.session)
    }
}

/// One thing to draw, in order.
enum Item {
    Message {
        from: usize,
        to: usize,
        t_us: u64,
        label: String,
        fate: Fate,
    },
    Note {
        node: usize,
        t_us: u64,
        text: String,
        tone: Tone,
    },
    Band {
        t_us: u64,
        text: String,
        tone: Tone,
    },
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Fate {
    Accepted,
    Duplicate,
    Rejected,
    Dropped,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Tone {
    Plain,
    Good,
    Warning,
    Bad,
}

fn seconds(t_us: u64) -> String {
    format!("{}.{:03}s", t_us / SEC, (t_us % SEC) / 1_000)
}

fn tone_of(event: &str) -> Tone {
    match event {
        "session_complete" | "broadcast_confirmed" => Tone::Good,
        "coordinator_failed" | "aggregator_failed" | "should_broadcast" => Tone::Warning,
        "session_aborted" | "session_expired" | "failover_exhausted" => Tone::Bad,
        _ => Tone::Plain,
    }
}

/// Turns records into drawable items, remembering each message's label until its fate.
#[derive(Default)]
struct Layout {
    labels: BTreeMap<u64, Label>,
    items: Vec<Item>,
    nodes: usize,
}

impl Layout {
    fn message(&mut self, id: u64, (from, to): (usize, usize), t_us: u64, fate: Fate, note: &str) {
        let base = self.labels.get(&id).map(Label::text).unwrap_or_default();
        self.items.push(Item::Message {
            from,
            to,
            t_us,
            label: format!("{base}{note}"),
            fate,
        });
    }

    fn note(&mut self, node: usize, t_us: u64, text: String, tone: Tone) {
        self.nodes = self.nodes.max(node + 1);
        self.items.push(Item::Note {
            node,
            t_us,
            text,
            tone,
        });
    }

    fn add(&mut self, record: &TraceRecord) {
        match record {
            TraceRecord::Send {
                id,
                from,
                to,
                session,
                kind,
                attempt,
                origin,
                ..
            } => {
                self.nodes = self.nodes.max(from + 1).max(to + 1);
                let label = Label {
                    kind: kind.clone(),
                    session: session.clone(),
                    attempt: *attempt,
                    injected: *origin == crate::trace::Origin::Injected,
                };
                self.labels.insert(*id, label);
            }
            TraceRecord::Deliver {
                t_us,
                id,
                from,
                to,
                duplicate,
                outcome,
            } => {
                let (fate, note) = if outcome != "accepted" {
                    (Fate::Rejected, format!(" rejected: {outcome}"))
                } else if *duplicate {
                    (Fate::Duplicate, " (duplicate)".to_owned())
                } else {
                    (Fate::Accepted, String::new())
                };
                self.message(*id, (*from, *to), *t_us, fate, &note);
            }
            TraceRecord::Drop {
                t_us,
                id,
                from,
                to,
                cause,
            } => {
                let note = format!(" lost: {}", cause.name());
                self.message(*id, (*from, *to), *t_us, Fate::Dropped, &note);
            }
            TraceRecord::Event {
                t_us,
                node,
                session,
                event,
                detail,
            } if NOTABLE.contains(&event.as_str()) => {
                let detail = if detail.is_empty() {
                    String::new()
                } else {
                    format!(" {detail}")
                };
                let text = format!("{event}{detail} [{session}]");
                self.note(*node, *t_us, text, tone_of(event));
            }
            TraceRecord::Event { .. } => {}
            other => self.add_marker(other),
        }
    }

    /// Creations, crashes, restarts, the heal and violations.
    fn add_marker(&mut self, record: &TraceRecord) {
        match record {
            TraceRecord::Create {
                t_us,
                node,
                session,
                signers,
                topology,
                phase,
            } => {
                let text = format!("create [{session}] {topology} {phase:?} signers {signers:?}");
                self.note(*node, *t_us, text, Tone::Plain);
            }
            TraceRecord::Crash { t_us, node } => {
                self.note(*node, *t_us, "CRASH (memory lost)".to_owned(), Tone::Bad);
            }
            TraceRecord::Restart { t_us, node } => {
                let text = "restart (fresh node, same key)".to_owned();
                self.note(*node, *t_us, text, Tone::Warning);
            }
            TraceRecord::Heal { t_us } => self.items.push(Item::Band {
                t_us: *t_us,
                text: "network healed: liveness phase".to_owned(),
                tone: Tone::Good,
            }),
            TraceRecord::Violation {
                t_us,
                invariant,
                detail,
            } => self.items.push(Item::Band {
                t_us: *t_us,
                text: format!("VIOLATION {invariant}: {detail}"),
                tone: Tone::Bad,
            }),
            _ => {}
        }
    }
}

/// The records as drawable items, and how many nodes there are.
fn items(records: &[TraceRecord]) -> (Vec<Item>, usize) {
    let mut layout = Layout::default();
    for record in records {
        layout.add(record);
    }
    (layout.items, layout.nodes.max(1))
}

fn participant(outcome: &Outcome, node: usize) -> String {
    if outcome.mix.byzantine_nodes.contains(&node) {
        format!("node {node} (byzantine)")
    } else {
        format!("node {node}")
    }
}

/// Mermaid text must not contain its own separators.
fn mermaid_text(text: &str) -> String {
    text.replace([';', '#', '\n'], " ")
}

/// The run as a Mermaid sequence diagram (needs [`crate::SimOptions::trace`]).
///
/// ```
/// use chorus_harness::{render_mermaid, FaultPreset, Scenario, Sim, SimOptions};
///
/// let scenario = Scenario { seed: 1, sessions: 1, faults: FaultPreset::Lossy, ..Scenario::default() };
/// let outcome = Sim::new(&scenario, SimOptions { trace: true, ..SimOptions::default() }).run();
/// let diagram = render_mermaid(&outcome);
/// assert!(diagram.starts_with("sequenceDiagram"));
/// assert!(diagram.contains("session_complete"));
/// ```
pub fn render_mermaid(outcome: &Outcome) -> String {
    let records = outcome.records.as_deref().unwrap_or_default();
    let (items, nodes) = items(records);
    let mut out = String::from("sequenceDiagram\n");
    let _ = writeln!(out, "    %% {}", outcome.scenario.replay_command());
    for node in 0..nodes {
        let _ = writeln!(
            out,
            "    participant n{node} as {}",
            participant(outcome, node)
        );
    }
    let everyone = if nodes > 1 {
        format!("n0,n{}", nodes - 1)
    } else {
        "n0".to_owned()
    };
    let _ = writeln!(out, "    Note over {everyone}: safety phase (faults on)");
    for item in &items {
        match item {
            Item::Message {
                from,
                to,
                t_us,
                label,
                fate,
            } => {
                let arrow = match fate {
                    Fate::Accepted => "->>",
                    Fate::Duplicate => "-->>",
                    Fate::Rejected => "--x",
                    Fate::Dropped => "-x",
                };
                let text = mermaid_text(&format!("{} {label}", seconds(*t_us)));
                let _ = writeln!(out, "    n{from}{arrow}n{to}: {text}");
            }
            Item::Note {
                node,
                t_us,
                text,
                tone,
            } => {
                let text = mermaid_text(&format!("{} {text}", seconds(*t_us)));
                if *tone == Tone::Warning || *tone == Tone::Bad {
                    let color = if *tone == Tone::Bad {
                        "rgb(255, 215, 215)"
                    } else {
                        "rgb(255, 236, 200)"
                    };
                    let _ = writeln!(out, "    rect {color}");
                    let _ = writeln!(out, "    Note over n{node}: {text}");
                    let _ = writeln!(out, "    end");
                } else {
                    let _ = writeln!(out, "    Note over n{node}: {text}");
                }
            }
            Item::Band { t_us, text, .. } => {
                let text = mermaid_text(&format!("{} {text}", seconds(*t_us)));
                let _ = writeln!(out, "    Note over {everyone}: {text}");
            }
        }
    }
    out
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

const LANE: usize = 180;
const ROW: usize = 22;
const LEFT: usize = 110;
const TOP: usize = 60;

fn lane_x(node: usize) -> usize {
    LEFT + node * LANE
}

fn colors(tone: Tone) -> (&'static str, &'static str) {
    match tone {
        Tone::Plain => ("#eef2f7", "#5b6b7f"),
        Tone::Good => ("#ddf4e4", "#23804a"),
        Tone::Warning => ("#fff0d4", "#b36b00"),
        Tone::Bad => ("#ffdede", "#b3261e"),
    }
}

fn svg_item(out: &mut String, item: &Item, y: usize, width: usize) {
    match item {
        Item::Message {
            from,
            to,
            t_us,
            label,
            fate,
        } => svg_message(out, (*from, *to), y, &seconds(*t_us), label, *fate),
        Item::Note {
            node,
            t_us,
            text,
            tone,
        } => {
            let (fill, stroke) = colors(*tone);
            let x = lane_x(*node);
            let _ = write!(
                out,
                "<g><title>{}</title><rect x=\"{}\" y=\"{}\" width=\"{}\" height=\"16\" rx=\"4\" fill=\"{fill}\" stroke=\"{stroke}\"/><text x=\"{x}\" y=\"{}\" font-size=\"10\" text-anchor=\"middle\" fill=\"{stroke}\">{}</text></g>",
                escape(&format!("{} {text}", seconds(*t_us))),
                x - LANE / 2 + 6,
                y - 11,
                LANE - 12,
                y + 1,
                escape(text)
            );
        }
        Item::Band { t_us, text, tone } => {
            let (fill, stroke) = colors(*tone);
            let _ = write!(
                out,
                "<rect x=\"10\" y=\"{}\" width=\"{}\" height=\"16\" fill=\"{fill}\" stroke=\"{stroke}\"/><text x=\"20\" y=\"{}\" font-size=\"11\" fill=\"{stroke}\">{}</text>",
                y - 11,
                width - 20,
                y + 1,
                escape(&format!("{} {text}", seconds(*t_us)))
            );
        }
    }
}

/// An arrow from one lane to another; a lost message stops halfway at a cross.
fn svg_message(
    out: &mut String,
    (from, to): (usize, usize),
    y: usize,
    time: &str,
    label: &str,
    fate: Fate,
) {
    let (x1, x2) = (lane_x(from), lane_x(to));
    let (color, dash) = match fate {
        Fate::Accepted => ("#2b5fab", ""),
        Fate::Duplicate => ("#6f8fc4", " stroke-dasharray=\"2 3\""),
        Fate::Rejected => ("#c26a00", " stroke-dasharray=\"6 3\""),
        Fate::Dropped => ("#c0262d", " stroke-dasharray=\"3 3\""),
    };
    let dropped = fate == Fate::Dropped;
    let end = if dropped { (x1 + x2) / 2 } else { x2 };
    let marker = if dropped {
        ""
    } else {
        " marker-end=\"url(#arrow)\""
    };
    let _ = write!(
        out,
        "<g><title>{}</title><line x1=\"{x1}\" y1=\"{y}\" x2=\"{end}\" y2=\"{y}\" stroke=\"{color}\" stroke-width=\"1.6\"{dash}{marker}/>",
        escape(&format!("{time} {label}"))
    );
    if dropped {
        let _ = write!(
            out,
            "<text x=\"{end}\" y=\"{}\" fill=\"{color}\" font-size=\"14\" text-anchor=\"middle\">✕</text>",
            y + 5
        );
    }
    let _ = write!(
        out,
        "<text x=\"{}\" y=\"{}\" fill=\"{color}\" font-size=\"10\" text-anchor=\"middle\">{}</text></g>",
        (x1 + x2) / 2,
        y - 4,
        escape(label)
    );
}

/// The run as a self-contained HTML page (no scripts, no external files; needs
/// [`crate::SimOptions::trace`]).
///
/// ```
/// use chorus_harness::{render_html, FaultPreset, Scenario, Sim, SimOptions};
///
/// let scenario = Scenario { seed: 1, sessions: 1, faults: FaultPreset::Lossy, ..Scenario::default() };
/// let outcome = Sim::new(&scenario, SimOptions { trace: true, ..SimOptions::default() }).run();
/// let page = render_html(&outcome);
/// assert!(page.starts_with("<!DOCTYPE html>"));
/// assert!(page.contains("<svg") && !page.contains("<script"));
/// ```
pub fn render_html(outcome: &Outcome) -> String {
    let records = outcome.records.as_deref().unwrap_or_default();
    let (items, nodes) = items(records);
    let width = LEFT + nodes * LANE;
    let height = TOP + (items.len() + 2) * ROW;
    let mut svg = format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{width}\" height=\"{height}\" font-family=\"sans-serif\">\
<defs><marker id=\"arrow\" viewBox=\"0 0 10 10\" refX=\"9\" refY=\"5\" markerWidth=\"7\" markerHeight=\"7\" orient=\"auto-start-reverse\"><path d=\"M0,0 L10,5 L0,10 z\" fill=\"context-stroke\"/></marker></defs>"
    );
    for node in 0..nodes {
        let x = lane_x(node);
        let _ = write!(
            svg,
            "<line x1=\"{x}\" y1=\"{}\" x2=\"{x}\" y2=\"{height}\" stroke=\"#c8d0da\"/><text x=\"{x}\" y=\"30\" font-size=\"13\" font-weight=\"bold\" text-anchor=\"middle\">{}</text>",
            TOP - 20,
            escape(&participant(outcome, node))
        );
    }
    for (row, item) in items.iter().enumerate() {
        svg_item(&mut svg, item, TOP + (row + 1) * ROW, width);
    }
    svg.push_str("</svg>");
    let stats = &outcome.stats;
    let verdict = if outcome.passed() {
        "every invariant held".to_owned()
    } else {
        format!("{} violation(s)", outcome.violations.len())
    };
    format!(
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>chorus sim seed {seed}</title>\
<style>body{{font-family:sans-serif;margin:16px;color:#1d2733}}code{{background:#eef2f7;padding:2px 4px}}\
.legend span{{margin-right:14px}}</style></head><body>\
<h1>chorus sim, seed {seed}</h1><p><code>{command}</code></p>\
<p>{verdict}; {sessions} sessions, {completed} completed; {sent} messages sent, {dropped} lost, {rejected} rejected; {crashes} crashes; trace hash <code>{hash}</code></p>\
<p>fault mix: <code>{mix}</code></p>\
<p class=\"legend\"><span style=\"color:#2b5fab\">→ delivered</span><span style=\"color:#6f8fc4\">⇢ duplicate</span>\
<span style=\"color:#c26a00\">⇢ rejected</span><span style=\"color:#c0262d\">✕ lost</span>\
<span style=\"color:#b36b00\">■ failover</span><span style=\"color:#23804a\">■ complete / healed</span><span style=\"color:#b3261e\">■ abort / crash / violation</span></p>\
{svg}</body></html>\n",
        seed = outcome.scenario.seed,
        command = escape(&outcome.scenario.replay_command()),
        sessions = stats.sessions,
        completed = stats.completed,
        sent = stats.sent,
        dropped = stats.dropped,
        rejected = stats.rejected,
        crashes = stats.crashes,
        hash = outcome.trace_hash_hex(),
        mix = escape(&serde_json::to_string(&outcome.mix).unwrap_or_default()),
    )
}
