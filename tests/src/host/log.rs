//! Reading a replica's log: text as the terminal would show it, and the address it serves on.

use std::net::SocketAddr;

/// The message a replica logs once it has bound its address.
const SERVING: &str = "wasmcron replica serving";

/// `line` without terminal colour codes (the text log colours its fields).
pub fn plain(line: &str) -> String {
    let mut plain = String::with_capacity(line.len());
    let mut chars = line.chars();
    while let Some(ch) = chars.next() {
        if ch == '\u{1b}' {
            for c in chars.by_ref() {
                if c == 'm' {
                    break;
                }
            }
        } else {
            plain.push(ch);
        }
    }
    plain
}

/// The address in the "wasmcron replica serving" line of `log` (`--log-format text` or
/// `json`), once the replica has logged it. Only a whole line counts (one ending in a
/// newline): a line still being written could end inside the port.
pub fn serving_address(log: &str) -> Option<SocketAddr> {
    log.split_inclusive('\n')
        .filter(|l| l.ends_with('\n') && l.contains(SERVING))
        .find_map(|line| {
            let line = plain(line);
            match serde_json::from_str::<serde_json::Value>(&line) {
                Ok(json) => json["fields"]["listen"].as_str()?.parse().ok(),
                Err(_) => line
                    .split_whitespace()
                    .find_map(|field| field.strip_prefix("listen="))?
                    .parse()
                    .ok(),
            }
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_serving_address_is_read_from_text_and_json_logs() {
        let coloured = "\u{1b}[2m2026-11-30T10:00:00.000001Z\u{1b}[0m \u{1b}[32m INFO\u{1b}[0m \
            \u{1b}[2mwasmcron::replica\u{1b}[0m\u{1b}[2m:\u{1b}[0m wasmcron replica serving \
            \u{1b}[3minstance\u{1b}[0m\u{1b}[2m=\u{1b}[0mr1 \u{1b}[3mlisten\u{1b}[0m\u{1b}[2m=\
            \u{1b}[0m127.0.0.1:41234 \u{1b}[3mdb\u{1b}[0m\u{1b}[2m=\u{1b}[0msqlite://x";
        let text = format!("starting\n{coloured}\nmore\n");
        assert_eq!(
            serving_address(&text),
            Some("127.0.0.1:41234".parse().unwrap())
        );
        let json = r#"{"timestamp":"2026-11-30T10:00:00Z","level":"INFO","fields":{"message":"wasmcron replica serving","instance":"r1","listen":"127.0.0.1:41235","db":"sqlite://x"},"target":"wasmcron::replica"}"#;
        assert_eq!(
            serving_address(&format!("{json}\n")),
            Some("127.0.0.1:41235".parse().unwrap())
        );
        assert_eq!(serving_address("2026-11-30 INFO starting\n"), None);
        let unfinished =
            "INFO wasmcron::replica: wasmcron replica serving instance=r1 listen=127.0.0.1:4";
        assert_eq!(serving_address(unfinished), None);
        assert_eq!(
            serving_address(&format!("{unfinished}1234 db=x\n")),
            Some("127.0.0.1:41234".parse().unwrap())
        );
    }
}
