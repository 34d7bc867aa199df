//! What the two files that run scripts/lan-lab.sh share: lesson07.rs
//! (graded) and lan_lab.rs (the script's own cleanup, not graded).
#![allow(dead_code)] // each test file uses its own part of this

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command};
use std::sync::mpsc;
use std::thread;

/// The built broadcast-send: Cargo puts it beside broadcast-recv.
pub fn built_sender() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_broadcast-recv"))
        .with_file_name(format!("broadcast-send{}", std::env::consts::EXE_SUFFIX))
}

/// Tell the script which programs to run: the ones under test, that is the
/// built binaries unless IMPL_BROADCAST_RECV / IMPL_BROADCAST_SEND are set.
pub fn programs_under_test(command: &mut Command) {
    if std::env::var_os("IMPL_BROADCAST_RECV").is_none() {
        command.env("IMPL_BROADCAST_RECV", env!("CARGO_BIN_EXE_broadcast-recv"));
    }
    if std::env::var_os("IMPL_BROADCAST_SEND").is_none() {
        command.env("IMPL_BROADCAST_SEND", built_sender());
    }
}

/// lan-lab.sh makes network namespaces, which needs root.
pub fn running_as_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
        .unwrap_or(false)
}

/// The namespaces of the lan-lab run whose process id is `pid`
/// (the script names them `bclab<pid>-…`).
pub fn namespaces_of(pid: u32) -> Vec<String> {
    let prefix = format!("bclab{pid}-");
    Command::new("ip")
        .args(["netns", "list"])
        .output()
        .map(|o| {
            String::from_utf8_lossy(&o.stdout)
                .lines()
                .filter_map(|l| l.split_whitespace().next())
                .filter(|name| name.starts_with(&prefix))
                .map(str::to_string)
                .collect()
        })
        .unwrap_or_default()
}

/// The child's stdout lines, as they come.
pub fn lines_of(child: &mut Child) -> mpsc::Receiver<String> {
    let (sender, lines) = mpsc::channel();
    if let Some(stdout) = child.stdout.take() {
        thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                if sender.send(line).is_err() {
                    break;
                }
            }
        });
    }
    lines
}
