//! A `poscore printer-sim` process for the CLI's tests, talked to over its control port.

use std::io::{BufRead, BufReader, Write};
use std::net::TcpStream;
use std::path::Path;
use std::process::{Child, Command, Stdio};

/// A running `poscore printer-sim`, killed on drop.
pub struct Sim {
    child: Child,
    /// Its ESC/POS address.
    pub printer: String,
    /// Its control address.
    pub control: String,
}

impl Sim {
    /// Starts one on free ports, writing pages to `png_dir`, with `extra` arguments.
    pub fn start(png_dir: &Path, extra: &[&str]) -> Sim {
        let mut child = Command::new(env!("CARGO_BIN_EXE_poscore"))
            .args([
                "printer-sim",
                "--listen",
                "127.0.0.1:0",
                "--control",
                "127.0.0.1:0",
                "--png-dir",
            ])
            .arg(png_dir)
            .args(extra)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("printer-sim starts");
        let mut first = String::new();
        BufReader::new(child.stdout.take().expect("piped"))
            .read_line(&mut first)
            .expect("printer-sim says where it listens");
        // "printer-sim listening on 127.0.0.1:P control 127.0.0.1:Q"
        let words: Vec<&str> = first.split_whitespace().collect();
        let at = |word: &str| {
            words[words
                .iter()
                .position(|w| *w == word)
                .unwrap_or_else(|| panic!("{first}"))
                + 1]
            .to_string()
        };
        Sim {
            printer: at("on"),
            control: at("control"),
            child,
        }
    }

    /// Sends one control command and returns the one-line answer.
    pub fn tell(&self, command: &str) -> String {
        let mut socket = TcpStream::connect(&self.control).expect("control port");
        socket
            .write_all(format!("{command}\n").as_bytes())
            .expect("control write");
        let mut answer = String::new();
        BufReader::new(socket)
            .read_line(&mut answer)
            .expect("control answer");
        answer.trim().to_string()
    }

    /// The simulator's `status` as JSON.
    #[allow(dead_code)] // used by some test files only
    pub fn status(&self) -> serde_json::Value {
        serde_json::from_str(&self.tell("status")).expect("status is JSON")
    }
}

impl Drop for Sim {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
