//! Splitting a URL into what `wasi:http` asks for.

use super::HttpError;

/// Where a request goes: the parts of its URL that `wasi:http/types.outgoing-request` takes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Target {
    /// `http`, `https`, or another scheme the host may refuse.
    pub scheme: String,
    /// `host` or `host:port`.
    pub authority: String,
    /// Path and query, at least `/`.
    pub path_with_query: String,
}

impl Target {
    /// Parses an absolute URL such as `http://127.0.0.1:8080/path?q=1`.
    pub fn parse(url: &str) -> Result<Self, HttpError> {
        let invalid = |reason: &str| HttpError::InvalidUrl {
            url: url.to_owned(),
            reason: reason.to_owned(),
        };
        let uri: ::http::Uri = url
            .parse()
            .map_err(|e: ::http::uri::InvalidUri| invalid(&e.to_string()))?;
        let scheme = uri
            .scheme_str()
            .ok_or_else(|| invalid("it has no scheme (http:// or https://)"))?;
        let authority = uri.authority().ok_or_else(|| invalid("it has no host"))?;
        if authority.host().is_empty() {
            return Err(invalid("it has no host"));
        }
        let path_with_query = uri.path_and_query().map_or("/", |p| p.as_str());
        Ok(Self {
            scheme: scheme.to_ascii_lowercase(),
            authority: authority.as_str().to_owned(),
            path_with_query: if path_with_query.is_empty() {
                "/".to_owned()
            } else {
                path_with_query.to_owned()
            },
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_a_full_url() {
        let target = Target::parse("http://127.0.0.1:8080/report?x=1").unwrap();
        assert_eq!(target.scheme, "http");
        assert_eq!(target.authority, "127.0.0.1:8080");
        assert_eq!(target.path_with_query, "/report?x=1");
    }

    #[test]
    fn defaults_the_path_to_root() {
        let target = Target::parse("HTTPS://example.com").unwrap();
        assert_eq!(target.scheme, "https");
        assert_eq!(target.authority, "example.com");
        assert_eq!(target.path_with_query, "/");
    }

    #[test]
    fn rejects_urls_without_scheme_or_host() {
        for url in ["example.com/path", "/path", "not a url", ""] {
            let err = Target::parse(url).unwrap_err();
            assert!(matches!(err, HttpError::InvalidUrl { .. }), "{url}: {err}");
        }
    }
}
