//! The layout logic: matching sends to recvs, FIN and RST, datagrams,
//! summaries, and the structure that `scripts/diagrams --check` compares.

use super::*;

const SERVER: &str = "127.0.0.1:9002";
const CLIENT: &str = "127.0.0.1:40000";

fn ev(t: u64, ev: &str, proto: &str, local: &str, peer: Option<&str>) -> Event {
    Event {
        t,
        ev: ev.into(),
        proto: proto.into(),
        local: Some(local.into()),
        peer: peer.map(Into::into),
        ..Event::default()
    }
}

fn data(mut e: Event, text: &str) -> Event {
    e.len = Some(text.len() as u64);
    e.text = text.into();
    e
}

fn trace(program: &str, events: Vec<Event>) -> Trace {
    Trace {
        program: program.into(),
        events,
    }
}

/// Arrows as (from tag or event, to tag or event, kind), for assertions.
fn arrows(d: &Diagram) -> Vec<(String, String, ArrowKind)> {
    let name = |r: usize| {
        let row = &d.rows[r];
        if row.ghost {
            "ghost".to_string()
        } else if row.tag.is_empty() {
            row.event.ev.clone()
        } else {
            row.tag.clone()
        }
    };
    d.arrows
        .iter()
        .map(|a| (name(a.from_row), name(a.to_row), a.kind))
        .collect()
}

fn five_sends_one_recv() -> Vec<Trace> {
    let mut client = vec![ev(10, "connect", "tcp", CLIENT, Some(SERVER))];
    for (i, m) in ["a", "b", "c", "d", "e"].iter().enumerate() {
        client.push(data(
            ev(20 + i as u64, "send", "tcp", CLIENT, Some(SERVER)),
            m,
        ));
    }
    client.push(ev(30, "shutdown", "tcp", CLIENT, Some(SERVER)));
    client[6].how = Some("write".into());
    client.push(ev(80, "close", "tcp", CLIENT, Some(SERVER)));
    let server = vec![
        ev(1, "listen", "tcp", SERVER, None),
        ev(15, "accept", "tcp", SERVER, Some(CLIENT)),
        data(ev(50, "recv", "tcp", SERVER, Some(CLIENT)), "abcde"),
        data(ev(60, "recv", "tcp", SERVER, Some(CLIENT)), ""),
        ev(61, "close", "tcp", SERVER, Some(CLIENT)),
    ];
    vec![trace("sticky-demo", server), trace("sticky-demo", client)]
}

#[test]
fn five_sends_meet_one_recv_as_five_arrows_into_it() {
    let d = Diagram::build(&five_sends_one_recv(), Options::default());
    assert_eq!(d.columns.len(), 2);
    assert_eq!(d.columns[0].title, "sticky-demo server");
    assert_eq!(d.columns[1].title, "sticky-demo client");
    let into_r1: Vec<_> = arrows(&d)
        .into_iter()
        .filter(|(_, to, _)| to == "r1")
        .collect();
    assert_eq!(
        into_r1,
        ["s1", "s2", "s3", "s4", "s5"]
            .iter()
            .map(|s| (s.to_string(), "r1".to_string(), ArrowKind::Data))
            .collect::<Vec<_>>()
    );
}

#[test]
fn the_empty_recv_is_the_peers_fin_and_connect_meets_accept() {
    let d = Diagram::build(&five_sends_one_recv(), Options::default());
    let all = arrows(&d);
    assert!(
        all.contains(&("shutdown".into(), "r2".into(), ArrowKind::Fin)),
        "{all:?}"
    );
    assert!(
        all.contains(&("connect".into(), "accept".into(), ArrowKind::Connect)),
        "{all:?}"
    );
}

#[test]
fn one_send_split_over_two_reads_has_two_arrows_out() {
    let client = [data(
        ev(10, "send", "tcp", CLIENT, Some(SERVER)),
        "\\x00\\x00\\x00\\x05hello",
    )];
    let mut server = vec![
        data(
            ev(20, "recv", "tcp", SERVER, Some(CLIENT)),
            "\\x00\\x00\\x00",
        ),
        data(ev(21, "recv", "tcp", SERVER, Some(CLIENT)), "\\x05hello"),
    ];
    // len counts bytes, not characters of TEXT.
    server[0].len = Some(3);
    server[1].len = Some(6);
    let client = vec![Event {
        len: Some(9),
        ..client[0].clone()
    }];
    let d = Diagram::build(
        &[trace("sticky-demo", server), trace("sticky-demo", client)],
        Options::default(),
    );
    assert_eq!(
        arrows(&d),
        vec![
            ("s1".into(), "r1".into(), ArrowKind::Data),
            ("s1".into(), "r2".into(), ArrowKind::Data)
        ]
    );
}

#[test]
fn a_reset_recv_is_drawn_from_the_peers_close_in_red() {
    let client = vec![
        data(ev(10, "send", "tcp", CLIENT, Some(SERVER)), "hi"),
        ev(11, "close", "tcp", CLIENT, Some(SERVER)),
    ];
    let mut reset = ev(30, "error", "tcp", SERVER, Some(CLIENT));
    reset.op = Some("recv".into());
    reset.errno = Some(104);
    reset.error = Some("Connection reset by peer (os error 104)".into());
    let server = vec![
        data(ev(20, "recv", "tcp", SERVER, Some(CLIENT)), "hi"),
        reset,
    ];
    let d = Diagram::build(
        &[trace("tcp-echo", server), trace("tcp-echo", client)],
        Options::default(),
    );
    assert!(arrows(&d).contains(&("close".into(), "error".into(), ArrowKind::Reset)));
    assert!(
        d.structure().contains("B: error recv (RST) <- A"),
        "{}",
        d.structure()
    );
}

#[test]
fn a_broadcast_reaches_every_receiver_and_a_cut_datagram_says_so() {
    let sender = vec![data(
        ev(10, "sendto", "udp", CLIENT, Some("127.255.255.255:9004")),
        "hello",
    )];
    let one = vec![data(
        ev(20, "recvfrom", "udp", "0.0.0.0:9004", Some(CLIENT)),
        "hello",
    )];
    let mut cut = data(
        ev(21, "recvfrom", "udp", "0.0.0.0:9004", Some(CLIENT)),
        "he",
    );
    cut.truncated = true;
    cut.size = Some(5);
    let d = Diagram::build(
        &[
            trace("broadcast-send", sender),
            trace("broadcast-recv", one),
            trace("broadcast-recv", vec![cut]),
        ],
        Options::default(),
    );
    assert_eq!(
        d.columns.len(),
        3,
        "one column per receiver process, though they share an address"
    );
    assert_eq!(
        arrows(&d),
        vec![
            ("s1".into(), "r1".into(), ArrowKind::Datagram),
            ("s1".into(), "r1".into(), ArrowKind::Truncated)
        ]
    );
    assert!(describe(&d.rows[2], false).contains("TRUNCATED (datagram was 5 B)"));
}

#[test]
fn a_one_sided_trace_draws_the_untraced_peer_as_its_own_column() {
    let client = five_sends_one_recv().remove(1);
    let d = Diagram::build(&[client], Options::default());
    assert_eq!(d.columns.len(), 2);
    assert_eq!(d.columns[1].title, "not traced");
    assert_eq!(d.columns[1].addr, SERVER);
    let unreceived = arrows(&d)
        .iter()
        .filter(|(_, to, k)| to == "ghost" && *k == ArrowKind::Data)
        .count();
    assert_eq!(unreceived, 5, "{:?}", arrows(&d));
}

#[test]
fn a_long_trace_keeps_its_ends_and_summarises_the_middle() {
    let mut client = vec![ev(1, "connect", "tcp", CLIENT, Some(SERVER))];
    let mut server = vec![ev(2, "accept", "tcp", SERVER, Some(CLIENT))];
    for i in 0..500u64 {
        client.push(data(
            ev(10 + 2 * i, "send", "tcp", CLIENT, Some(SERVER)),
            "x",
        ));
        server.push(data(
            ev(11 + 2 * i, "recv", "tcp", SERVER, Some(CLIENT)),
            "x",
        ));
    }
    let d = Diagram::build(
        &[trace("tcp-echo", server), trace("tcp-echo", client)],
        Options { max_rows: 40 },
    );
    assert!(d.rows.len() <= 40, "{} rows", d.rows.len());
    let summaries: Vec<&String> = d.rows.iter().filter_map(|r| r.summary.as_ref()).collect();
    assert_eq!(summaries.len(), 2, "{summaries:?}");
    assert!(
        summaries.iter().any(|s| s.contains(" send (")),
        "{summaries:?}"
    );
    for a in &d.arrows {
        assert!(a.from_row < d.rows.len() && a.to_row < d.rows.len());
        assert!(d.rows[a.from_row].summary.is_none() && d.rows[a.to_row].summary.is_none());
    }
    // The last send still meets its recv.
    let last = d
        .rows
        .iter()
        .rposition(|r| r.tag == "s500")
        .expect("s500 kept");
    assert_eq!(d.arrows_from(last).count(), 1);
}

#[test]
fn the_structure_ignores_times_and_ports() {
    let a = Diagram::build(&five_sends_one_recv(), Options::default()).structure();
    let moved: Vec<Trace> = five_sends_one_recv()
        .into_iter()
        .map(|mut t| {
            for e in &mut t.events {
                e.t = e.t * 7 + 1000;
                for addr in [&mut e.local, &mut e.peer].into_iter().flatten() {
                    *addr = addr.replace("40000", "51234").replace("9002", "41000");
                }
            }
            t
        })
        .collect();
    let b = Diagram::build(&moved, Options::default()).structure();
    assert_eq!(a, b);
    assert!(!a.contains("9002") && !a.contains("40000"), "{a}");
    assert!(
        a.contains("A: r1 recv 5 B \"abcde\" <- B s1 <- B s2 <- B s3 <- B s4 <- B s5"),
        "{a}"
    );
}

#[test]
fn a_trace_of_another_format_version_is_refused() {
    assert!(Trace::parse("{\"wire_trace\":2}\n")
        .unwrap_err()
        .contains("version 2"));
    assert!(Trace::parse("").is_err());
    assert!(Trace::parse("{\"wire_trace\":1}\nnot json\n")
        .unwrap_err()
        .starts_with("line 2"));
    let t = Trace::parse("{\"wire_trace\":1,\"program\":\"x\"}\n{\"t\":5,\"ev\":\"close\",\"proto\":\"tcp\",\"local\":\"127.0.0.1:1\",\"peer\":null}\n").unwrap();
    assert_eq!((t.program.as_str(), t.events.len()), ("x", 1));
}

#[test]
fn text_shows_where_bytes_went_and_came_from() {
    let d = Diagram::build(&five_sends_one_recv(), Options::default());
    let text = render::text(&d);
    assert!(text.contains("r1 recv 5 B \"abcde\"  ← B s1–s5"), "{text}");
    assert!(text.contains("s3 send 1 B \"c\"  → A r1"), "{text}");
    let svg = render::svg(&d, "five sends");
    assert!(svg.starts_with("<svg") && svg.trim_end().ends_with("</svg>"));
    assert_eq!(
        svg.matches("marker-end=\"url(#mData)\"").count(),
        5 + 1,
        "five arrows and the legend"
    );
}
