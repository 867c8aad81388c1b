//! The embedded files of the dashboard, each with its content type and a content hash.

/// One embedded file.
#[derive(Debug)]
pub struct Asset {
    /// Path below `/assets/` (`index.html` is served at `/`).
    pub path: &'static str,
    /// The `Content-Type` it is served with.
    pub content_type: &'static str,
    /// Its bytes.
    pub body: &'static [u8],
    /// FNV-1a hash of the bytes, computed at compile time.
    hash: u64,
}

impl Asset {
    /// A strong `ETag` (quoted) of the content.
    pub fn etag(&self) -> String {
        format!("\"{:016x}\"", self.hash)
    }
}

const fn fnv1a(bytes: &[u8]) -> u64 {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    let mut i = 0;
    while i < bytes.len() {
        hash ^= bytes[i] as u64;
        hash = hash.wrapping_mul(0x0100_0000_01b3);
        i += 1;
    }
    hash
}

macro_rules! asset {
    ($path:literal, $type:expr) => {{
        const BODY: &[u8] = include_bytes!(concat!("assets/", $path));
        Asset {
            path: $path,
            content_type: $type,
            body: BODY,
            hash: fnv1a(BODY),
        }
    }};
}

const JS: &str = "text/javascript; charset=utf-8";

/// Every file of the dashboard.
pub static ASSETS: &[Asset] = &[
    asset!("index.html", "text/html; charset=utf-8"),
    asset!("style.css", "text/css; charset=utf-8"),
    asset!("icon.svg", "image/svg+xml"),
    asset!("app.js", JS),
    asset!("api.js", JS),
    asset!("live.js", JS),
    asset!("dom.js", JS),
    asset!("format.js", JS),
    asset!("chart.js", JS),
    asset!("views/cluster.js", JS),
    asset!("views/overview.js", JS),
    asset!("views/ticks.js", JS),
    asset!("views/jobs.js", JS),
    asset!("views/job_form.js", JS),
    asset!("views/job_detail.js", JS),
    asset!("views/plugins.js", JS),
    asset!("views/audit.js", JS),
    asset!("views/jobs_file.js", JS),
    asset!("views/managed.js", JS),
    asset!("views/settings.js", JS),
];

/// The asset at `path`, if any.
pub fn find(path: &str) -> Option<&'static Asset> {
    ASSETS.iter().find(|a| a.path == path)
}
