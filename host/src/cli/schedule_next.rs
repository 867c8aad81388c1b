//! `wasmcron schedule next "<expr>" [--tz ZONE] [--count N] [--from RFC3339]`.

use std::process::ExitCode;

use chrono::{DateTime, Utc};

use crate::schedule;

#[derive(Debug, clap::Args)]
pub struct NextArgs {
    /// The schedule: 5- or 6-field cron, a macro such as @daily, or @every <duration>.
    expr: String,
    /// IANA time zone the schedule is evaluated in.
    #[arg(long, default_value = "UTC")]
    tz: String,
    /// How many instants to print.
    #[arg(long, default_value_t = 5)]
    count: usize,
    /// Start after this instant (RFC 3339); default now.
    #[arg(long)]
    from: Option<DateTime<Utc>>,
}

pub fn run(args: NextArgs) -> anyhow::Result<ExitCode> {
    let tz = match schedule::parse_timezone(&args.tz) {
        Ok(tz) => tz,
        Err(e) => {
            eprintln!("error: {e}");
            return Ok(ExitCode::FAILURE);
        }
    };
    let from = args.from.unwrap_or_else(Utc::now);
    match schedule::next_instants(&args.expr, tz, from, args.count) {
        Ok(instants) => {
            for instant in instants {
                let local = instant.with_timezone(&tz);
                println!(
                    "{}  {}",
                    instant.to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
                    local.format("%Y-%m-%d %H:%M:%S %Z (%:z)")
                );
            }
            Ok(ExitCode::SUCCESS)
        }
        Err(e) => {
            eprintln!("error: {e}");
            Ok(ExitCode::FAILURE)
        }
    }
}
